using System.Text;

namespace Bot.Storage;

/// <summary>One figure of /stats and GET /admin/stats: its name (camelCase, the JSON key) and a scalar SQL sub-select.</summary>
public sealed record Count(string Name, string Sql);

/// <summary>A module's or a feature's figures, and the text that shows them in /stats (null: the admin API only).</summary>
public interface ICountSource
{
    IReadOnlyList<Count> Counts { get; }

    /// <summary>A text key whose placeholders are the counts' names, for the /stats message.</summary>
    string? TextKey => null;
}

/// <summary>Every registered source's counts, read in one statement: the sum of what the modules report.</summary>
public sealed class BotCounts(IEnumerable<ICountSource> sources)
{
    private readonly ICountSource[] sources = sources.ToArray();

    public IReadOnlyList<ICountSource> Sources => sources;

    public async Task<Dictionary<string, long>> ReadAsync(Db db, CancellationToken cancellationToken)
    {
        var counts = sources.SelectMany(s => s.Counts).ToList();
        var sql = new StringBuilder("SELECT ");
        sql.AppendJoin(", ", counts.Select(c => $"({c.Sql})::bigint"));
        var values = await db.FirstAsync(sql.ToString(), reader => Enumerable.Range(0, counts.Count).Select(reader.GetInt64).ToArray(), cancellationToken);
        return counts.Select((c, i) => (c.Name, Value: values![i])).ToDictionary(c => c.Name, c => c.Value);
    }
}
