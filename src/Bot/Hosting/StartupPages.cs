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

    /// <summary>
    /// The mappings of <paramref name="executable"/> in <paramref name="smaps"/> (the format of <c>/proc/PID/smaps</c>)
    /// that are readable, neither writable nor executable, private, and have no anonymous (copied-on-write) pages.
    /// </summary>
    public static IReadOnlyList<Range> Releasable(IEnumerable<string> smaps, string executable)
    {
        var releasable = new List<Range>();
        Range? candidate = null;
        foreach (var line in smaps)
        {
            if (TryParseHeader(line, executable, out var range, out var eligible))
            {
                candidate = eligible ? range : null;
                continue;
            }

            if (candidate is { } current && line.StartsWith("Anonymous:", StringComparison.Ordinal))
            {
                if (Kilobytes(line) == 0)
                {
                    releasable.Add(current);
                }

                candidate = null;
            }
        }

        return releasable;
    }

    // A header: "start-end perms offset dev inode [path]"; the fields after it ("Rss:", "VmFlags:") have no range.
    private static bool TryParseHeader(string line, string executable, out Range range, out bool eligible)
    {
        range = default;
        eligible = false;
        var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        var dash = fields.Length < 5 ? -1 : fields[0].IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0 ||
            !long.TryParse(fields[0].AsSpan(0, dash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var start) ||
            !long.TryParse(fields[0].AsSpan(dash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var end))
        {
            return false;
        }

        range = new Range(start, end);
        // "r--p": read-only, private. A path that is no longer the file's (" (deleted)") is not compared as equal.
        eligible = fields[1] == "r--p" && fields.Length == 6 && fields[5].Trim() == executable && end > start;
        return true;
    }

    private static long Kilobytes(string line)
    {
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 2 && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : -1;
    }

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(nint address, nuint length, int advice);
}
