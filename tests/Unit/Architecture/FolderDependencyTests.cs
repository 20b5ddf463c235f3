using System.Text.RegularExpressions;

namespace Bot.Tests.Unit.Architecture;

/// <summary>
/// The source's top-level folders as modules (src/Bot/&lt;Folder&gt;, namespace Bot.&lt;Folder&gt;): the features sit on
/// top, so no other folder refers to Bot.Features; and no two folders import each other, directly or through others.
/// </summary>
public sealed partial class FolderDependencyTests
{
    [Fact]
    public void No_folder_but_the_features_refers_to_a_feature()
    {
        var graph = Graph();
        var offenders = graph.Where(g => g.Key != "Features" && g.Value.ContainsKey("Features"))
            .Select(g => $"{g.Key} ({string.Join(", ", g.Value["Features"])})").ToList();
        Assert.True(offenders.Count == 0, "refer to Bot.Features: " + string.Join("; ", offenders));
        Assert.True(graph.ContainsKey("Features") && graph["Features"].Count > 0, "the scan found no references at all");
    }

    [Fact]
    public void No_import_cycle_between_folders()
    {
        var graph = Graph();
        var cycleEdges = new HashSet<string>();
        foreach (var (from, targets) in graph)
        {
            foreach (var to in targets.Keys.Where(to => Reaches(graph, to, from)))
            {
                cycleEdges.Add($"{from}->{to}");
            }
        }

        var cycles = cycleEdges.Order().Select(e => $"{e} ({string.Join(", ", graph[e.Split("->")[0]][e.Split("->")[1]])})").ToList();
        Assert.True(cycles.Count == 0, "import cycles (an edge, then the files that make it): " + string.Join("; ", cycles));
    }

    private static bool Reaches(Dictionary<string, Dictionary<string, SortedSet<string>>> graph, string from, string target)
    {
        var seen = new HashSet<string> { from };
        var stack = new Stack<string>([from]);
        while (stack.TryPop(out var folder))
        {
            if (folder == target)
            {
                return true;
            }

            foreach (var next in graph.GetValueOrDefault(folder)?.Keys ?? Enumerable.Empty<string>())
            {
                if (seen.Add(next))
                {
                    stack.Push(next);
                }
            }
        }

        return false;
    }

    /// <summary>Folder → folders it refers to (by <c>using Bot.X</c> or a qualified <c>Bot.X.</c> name) → the files that do.</summary>
    private static Dictionary<string, Dictionary<string, SortedSet<string>>> Graph()
    {
        var source = Path.Combine(RepositoryRoot(), "src", "Bot");
        var folders = Directory.GetDirectories(source).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj")).ToHashSet()!;
        var graph = new Dictionary<string, Dictionary<string, SortedSet<string>>>();
        foreach (var folder in folders)
        {
            var targets = graph[folder!] = [];
            foreach (var file in Directory.EnumerateFiles(Path.Combine(source, folder!), "*.cs", SearchOption.AllDirectories))
            {
                foreach (Match match in Reference().Matches(File.ReadAllText(file)))
                {
                    var to = match.Groups[1].Value;
                    if (to != folder && folders.Contains(to))
                    {
                        (targets.TryGetValue(to, out var files) ? files : targets[to] = []).Add(Path.GetFileName(file));
                    }
                }
            }
        }

        return graph;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Bot.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("the repository (Bot.sln) is not above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"\bBot\.([A-Z][A-Za-z]+)\b")]
    private static partial Regex Reference();
}
