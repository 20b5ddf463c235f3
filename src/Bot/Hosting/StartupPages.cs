using System.Globalization;
using System.Runtime.InteropServices;

namespace Bot.Hosting;

/// <summary>
/// Gives back the pages of the executable's read-only data that start-up read and the process no longer needs.
/// </summary>
/// <remarks>
/// Before <c>Main</c> the Native AOT runtime decodes its compressed ("dehydrated") data, about 16 MiB of the binary's
/// read-only data, into the writable <c>.hydrated</c> section; the source pages stay mapped and count in the process's
/// resident memory for as long as it runs, although nothing reads them again. Once the host has started, the mappings
/// of the executable that are read-only, not code, and hold no page of their own (nothing the loader or the runtime
/// wrote: a relocated segment made read-only afterwards has private pages and is left alone) are dropped from the
/// process with <c>madvise(MADV_DONTNEED)</c>. That loses nothing: such a mapping is exactly the file's contents, and a
/// page still in use (the exception tables, a lookup table of the runtime) comes back from the page cache at its next
/// read. Code is left mapped: most of what start-up ran is also what the bot runs (docs/performance.md).
/// </remarks>
public static partial class StartupPages
{
    private const int MadviseDontNeed = 4;

    /// <summary>A mapping's address range, as <c>/proc/self/smaps</c> gives it.</summary>
    public readonly record struct Range(long Start, long End)
    {
        public long Length => End - Start;
    }

    /// <summary>Releases the executable's releasable mappings; returns the bytes released (0 where this is not Linux).</summary>
    public static long Release()
    {
        if (!OperatingSystem.IsLinux() || Environment.ProcessPath is not { } executable)
        {
            return 0;
        }

        long released = 0;
        foreach (var range in Releasable(File.ReadLines("/proc/self/smaps"), executable))
        {
            if (Madvise((nint)range.Start, (nuint)range.Length, MadviseDontNeed) == 0)
            {
                released += range.Length;
            }
        }

        return released;
    }

    /// <summary>One mapping of <c>/proc/PID/smaps</c>: its range, permissions, path (empty if none) and its "kB" fields.</summary>
    public sealed record Mapping(Range Range, string Permissions, string Path, IReadOnlyDictionary<string, long> Kilobytes);

    /// <summary>
    /// The mappings of <paramref name="executable"/> in <paramref name="smaps"/> (the format of <c>/proc/PID/smaps</c>)
    /// that are readable, neither writable nor executable, private, and have no anonymous (copied-on-write) pages.
    /// </summary>
    public static IReadOnlyList<Range> Releasable(IEnumerable<string> smaps, string executable) =>
        [.. Mappings(smaps)
            .Where(m => IsReadOnlyDataOf(m, executable) && m.Kilobytes.TryGetValue("Anonymous", out var anonymous) && anonymous == 0)
            .Select(m => m.Range)];

    /// <summary>Read-only ("r--p": private, neither writable nor executable) and mapped from <paramref name="executable"/>.</summary>
    /// <remarks>A path that is no longer the file's (" (deleted)") is not equal to it.</remarks>
    public static bool IsReadOnlyDataOf(Mapping mapping, string executable) =>
        mapping.Permissions == "r--p" && mapping.Path == executable && mapping.Range.Length > 0;

    /// <summary>
    /// The mappings in <paramref name="smaps"/>. A field whose value is not a whole number of kB is left out of
    /// <see cref="Mapping.Kilobytes"/>, as if it were missing.
    /// </summary>
    public static IEnumerable<Mapping> Mappings(IEnumerable<string> smaps)
    {
        Range? range = null;
        string permissions = "", path = "";
        Dictionary<string, long> kilobytes = [];
        foreach (var line in smaps)
        {
            if (TryParseHeader(line, out var next, out var nextPermissions, out var nextPath))
            {
                if (range is { } current)
                {
                    yield return new Mapping(current, permissions, path, kilobytes);
                }

                (range, permissions, path, kilobytes) = (next, nextPermissions, nextPath, []);
                continue;
            }

            // "Rss:     512 kB"; "VmFlags: rd mr" and other fields without a size are not kept.
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (range is not null && fields is [var name, var value, "kB"] && name.EndsWith(':') &&
                long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                kilobytes[name[..^1]] = size;
            }
        }

        if (range is { } last)
        {
            yield return new Mapping(last, permissions, path, kilobytes);
        }
    }

    // A header: "start-end perms offset dev inode [path]"; the fields after it ("Rss:", "VmFlags:") have no range.
    private static bool TryParseHeader(string line, out Range range, out string permissions, out string path)
    {
        range = default;
        permissions = path = "";
        var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        var dash = fields.Length < 5 ? -1 : fields[0].IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0 ||
            !long.TryParse(fields[0].AsSpan(0, dash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var start) ||
            !long.TryParse(fields[0].AsSpan(dash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var end))
        {
            return false;
        }

        range = new Range(start, end);
        permissions = fields[1];
        path = fields.Length == 6 ? fields[5].Trim() : "";
        return true;
    }

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(nint address, nuint length, int advice);
}
