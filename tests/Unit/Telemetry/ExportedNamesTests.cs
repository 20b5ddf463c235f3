using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Bot.Telemetry;

namespace Bot.Tests.Unit.Telemetry;

/// <summary>
/// The dashboard and the alerts query only metrics the bot exports: the names are derived from the Bot
/// meter's instruments as the collector's Prometheus exporter names them (dots to underscores, the unit
/// as a suffix, _total for counters, _bucket/_sum/_count for histograms), and docs/telemetry.md lists them.
/// </summary>
[Collection(nameof(BotMetricsTests))]
public sealed partial class ExportedNamesTests
{
    // kube-state-metrics series the alerts use (docs/telemetry.md says which exporter provides them).
    private static readonly string[] KubeStateMetrics = ["kube_pod_container_status_restarts_total", "kube_cronjob_status_last_successful_time"];

    [Fact]
    public void Every_instrument_follows_the_naming_rules()
    {
        var instruments = Instruments();
        Assert.True(instruments.Count >= 14, $"{instruments.Count} instruments");
        Assert.All(instruments, i =>
        {
            Assert.StartsWith("bot.", i.Name, StringComparison.Ordinal);
            Assert.Matches("^[a-z][a-z0-9_.]*$", i.Name);
            Assert.False(string.IsNullOrEmpty(i.Unit), $"{i.Name} has no unit");
            Assert.False(string.IsNullOrEmpty(i.Description), $"{i.Name} has no description");
        });
    }

    [Fact]
    public void Every_dashboard_query_names_an_exported_metric()
    {
        var exported = PrometheusNames(Instruments());
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoRoot(), "charts/bot/files/dashboards/bot.json")));
        var expressions = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .Select(t => t.GetProperty("expr").GetString()!)
            .ToList();

        Assert.True(expressions.Count >= 10);
        Assert.All(expressions, expression =>
        {
            var names = MetricName().Matches(expression).Select(m => m.Value).ToList();
            Assert.NotEmpty(names);
            Assert.All(names, name => Assert.Contains(name, exported));
        });
    }

    [Fact]
    public void Every_alert_expression_names_an_exported_or_kube_state_metric()
    {
        var exported = PrometheusNames(Instruments());
        var template = File.ReadAllLines(Path.Combine(RepoRoot(), "charts/bot/templates/prometheusrule.yaml"));
        var names = MetricOrKubeName().Matches(string.Join('\n', template.Where(l => !l.TrimStart().StartsWith('#'))))
            .Select(m => m.Value).Distinct().ToList();

        Assert.Contains("bot_leader", names);
        Assert.All(names, name => Assert.True(exported.Contains(name) || KubeStateMetrics.Contains(name), $"{name} is not exported"));
    }

    [Fact]
    public void The_telemetry_document_lists_every_metric()
    {
        var doc = File.ReadAllText(Path.Combine(RepoRoot(), "docs/telemetry.md"));
        Assert.All(Instruments(), i =>
        {
            Assert.Contains($"`{i.Name}`", doc, StringComparison.Ordinal);
            Assert.Contains($"`{PrometheusName(i)}`", doc, StringComparison.Ordinal);
        });
    }

    /// <summary>The name a scrape of the collector shows for an instrument (histograms: the base of _bucket etc.).</summary>
    public static string PrometheusName(Instrument instrument)
    {
        var name = instrument.Name.Replace('.', '_');
        name += instrument.Unit switch
        {
            "s" => "_seconds",
            "ms" => "_milliseconds",
            "By" => "_bytes",
            _ => "",
        };
        return instrument.GetType().Name.StartsWith("Counter", StringComparison.Ordinal)
            || instrument.GetType().Name.StartsWith("ObservableCounter", StringComparison.Ordinal)
            ? name + "_total"
            : name;
    }

    private static HashSet<string> PrometheusNames(IEnumerable<Instrument> instruments)
    {
        var names = new HashSet<string>();
        foreach (var instrument in instruments)
        {
            var name = PrometheusName(instrument);
            names.Add(name);
            if (instrument.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal))
            {
                names.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
            }
        }

        return names;
    }

    private static List<Instrument> Instruments()
    {
        var instruments = new List<Instrument>();
        using var listener = new MeterListener();
        var metrics = TelemetryFixtures.Metrics(out var meterLifetime);
        using var meterScope = meterLifetime;
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument.Meter.Name == BotMetrics.MeterName)
            {
                lock (instruments)
                {
                    instruments.Add(instrument);
                }
            }
        };
        listener.Start();
        // The features' instruments, on the same meter.
        var factory = TelemetryFixtures.MeterFactory(meterLifetime);
        GC.KeepAlive(new Bot.Features.Broadcasts.BroadcastMetrics(factory));
        GC.KeepAlive(new Bot.Features.JoinGate.JoinMetrics(factory));
        GC.KeepAlive(metrics);
        return instruments.DistinctBy(i => i.Name).ToList();
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Bot.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Bot.sln not found");
    }

    [GeneratedRegex(@"\bbot_[a-z0-9_]+\b")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"\b(bot|kube)_[a-z0-9_]+\b(?=\s*[{\[)])")]
    private static partial Regex MetricOrKubeName();
}
