using System.Diagnostics;
using Npgsql;

namespace Bot.Tests.Integration.Infrastructure;

/// <summary>A real PostgreSQL cluster in a temporary folder, started by scripts/pg.sh from the machine's server.</summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private readonly string directory;
    private int port;

    private PostgresCluster(string directory) => this.directory = directory;

    public string AdminConnectionString => $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false";

    public static async Task<PostgresCluster> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "bot-pg-" + Guid.NewGuid().ToString("N")[..12]);
        var cluster = new PostgresCluster(directory);
        await cluster.StartAsync(port: null);
        return cluster;
    }

    public int Port => port;

    /// <summary>A streaming standby of this running cluster (pg_basebackup -R), in a folder of its own.</summary>
    public async Task<PostgresCluster> StartStandbyAsync()
    {
        var standby = new PostgresCluster(Path.Combine(Path.GetTempPath(), "bot-pg-" + Guid.NewGuid().ToString("N")[..12]));
        var output = await Script("standby", standby.directory, directory);
        standby.port = new NpgsqlConnectionStringBuilder(output.Trim()).Port;
        return standby;
    }

    /// <summary>Starts the stopped cluster again on the same port, as a database restart would.</summary>
    public Task StartAgainAsync() => StartAsync(port);

    public Task StopAsync() => Script("stop", directory);

    /// <summary>A fresh, empty database for one test.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..16];
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return $"Host=127.0.0.1;Port={port};Username=postgres;Database={name}";
    }

    /// <summary>A single value from <paramref name="sql"/> as a long (counts, versions).</summary>
    public static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Runs a statement (test data set-up).</summary>
    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A fresh database migrated by the bot under test, with its settings plus <paramref name="extra"/>.</summary>
    public async Task<Dictionary<string, string?>> CreateMigratedAsync(IDictionary<string, string?> extra)
    {
        var settings = BotProcess.Settings(await CreateDatabaseAsync());
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        var migrate = await BotProcess.RunAsync(settings, TimeSpan.FromSeconds(60), "migrate", "up");
        Assert.True(migrate.ExitCode == 0, migrate.Stderr);
        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(directory, recursive: true);
            File.Delete(directory + ".initdb.log");
        }
        catch (IOException)
        {
        }
    }

    private async Task StartAsync(int? port)
    {
        var output = await Script("start", directory, port?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        this.port = new NpgsqlConnectionStringBuilder(output.Trim()).Port;
    }

    private static async Task<string> Script(params string?[] args)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(Repo.Root, "scripts", "pg.sh"));
        foreach (var arg in args.Where(a => a is not null))
        {
            info.ArgumentList.Add(arg!);
        }

        // Tests need behaviour, not durability: skip fsync for speed. Benchmarks keep it on.
        info.Environment["PG_OPTIONS"] = "-c fsync=off -c full_page_writes=off";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"pg.sh {string.Join(' ', args)} failed: {await stderr}");
        }

        return await stdout;
    }
}

/// <summary>One cluster shared by the whole test assembly; each test takes its own database in it.</summary>
public sealed class SharedPostgres : IAsyncLifetime
{
    public PostgresCluster Cluster { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Cluster = await PostgresCluster.StartAsync();

    public async ValueTask DisposeAsync() => await Cluster.DisposeAsync();
}
