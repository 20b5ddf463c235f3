using Bot.Hosting;

namespace Bot.Tests.Unit.Hosting;

/// <summary>
/// Only the executable's read-only, private, unmodified data mappings are released: never code, never a writable
/// mapping, never one with a page of its own (a relocated segment made read-only), never another file's or an
/// anonymous mapping, never a replaced file's.
/// </summary>
public sealed class StartupPagesTests
{
    private const string Executable = "/app/Bot";

    [Fact]
    public void Only_unmodified_read_only_data_of_the_executable_is_releasable()
    {
        var smaps = Smaps(
            ("55d000000000-55d000065000", "r--p", Executable, 0),      // headers and relocation tables
            ("55d000065000-55d00142c000", "r-xp", Executable, 0),      // code
            ("55d00142c000-55d002418000", "r--p", Executable, 0),      // .rodata: the dehydrated data
            ("55d002418000-55d002419000", "r--p", Executable, 4),      // a page the loader wrote before protecting it
            ("55d002419000-55d002adc000", "r--p", Executable, 0),      // exception and unwind tables
            ("55d002adc000-55d002ade000", "r--p", Executable, 8),      // RELRO: relocated, then read-only
            ("55d002ade000-55d002bbd000", "rw-p", Executable, 348),    // .data
            ("55d002bbd000-55d003f00000", "rw-p", "", 18432),          // .bss and .hydrated
            ("7f0000000000-7f0000100000", "r--p", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3", 0),
            ("7f0000200000-7f0000300000", "r--s", Executable, 0),      // shared: not the process's copy
            ("7f0000300000-7f0000400000", "r--p", Executable + " (deleted)", 0));

        var releasable = StartupPages.Releasable(smaps, Executable);

        Assert.Equal(
            [
                new StartupPages.Range(0x55d000000000, 0x55d000065000),
                new StartupPages.Range(0x55d00142c000, 0x55d002418000),
                new StartupPages.Range(0x55d002419000, 0x55d002adc000),
            ],
            releasable);
    }

    [Fact]
    public void A_mapping_whose_anonymous_count_is_missing_or_unreadable_is_kept()
    {
        string[] smaps =
        [
            $"55d00142c000-55d002418000 r--p 0148e000 fe:00 1234 {Executable}",
            "Rss:               14424 kB",
            $"55d002419000-55d002adc000 r--p 02419000 fe:00 1234 {Executable}",
            "Anonymous:         many kB",
            $"55d002adc000-55d002ade000 r--p 02adc000 fe:00 1234 {Executable}",
            "AnonHugePages:         0 kB",
        ];

        Assert.Empty(StartupPages.Releasable(smaps, Executable));
    }

    private static List<string> Smaps(params (string Range, string Permissions, string Path, int AnonymousKiB)[] mappings)
    {
        var lines = new List<string>();
        foreach (var (range, permissions, path, anonymous) in mappings)
        {
            lines.Add($"{range} {permissions} 00000000 fe:00 {(path.Length == 0 ? 0 : 1234)}{(path.Length == 0 ? "" : "                      " + path)}");
            lines.Add("Size:               1024 kB");
            lines.Add("Rss:                 512 kB");
            lines.Add("Private_Clean:       512 kB");
            lines.Add($"Anonymous:          {anonymous} kB");
            lines.Add("AnonHugePages:         0 kB");
            lines.Add("VmFlags: rd mr mw me ac sd");
        }

        return lines;
    }
}
