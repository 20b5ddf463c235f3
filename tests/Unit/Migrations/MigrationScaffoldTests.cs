using Bot.Hosting;
using Bot.Migrations;

namespace Bot.Tests.Unit.Migrations;

/// <summary><c>Bot migrate create NAME [--feature F]</c>: numbered across the shared folder and every feature's own.</summary>
public sealed class MigrationScaffoldTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("bot-scaffold").FullName;

    [Fact]
    public void A_features_migration_goes_into_its_folder_and_versions_count_every_folder()
    {
        var shared = Directory.CreateDirectory(Path.Combine(root, "src", "Bot", "Migrations", "Sql")).FullName;
        File.WriteAllText(Path.Combine(shared, "0001_base.up.sql"), "");
        File.WriteAllText(Path.Combine(shared, "0001_base.down.sql"), "");
        Directory.CreateDirectory(Path.Combine(root, "src", "Bot", "Features", "Ping"));

        var created = MigrationScaffold.Create(root, "ping_log", "Ping");
        Assert.Equal(Path.Combine(root, "src", "Bot", "Features", "Ping", "Migrations", "0002_ping_log.up.sql"), created[0]);
        Assert.True(File.Exists(created[1]));

        var next = MigrationScaffold.Create(root, "later");
        Assert.Equal(Path.Combine(shared, "0003_later.up.sql"), next[0]);
        Assert.Throws<StartupException>(() => MigrationScaffold.Create(root, "x", "NoSuchFeature"));
        Assert.Throws<StartupException>(() => MigrationScaffold.Create(root, "x", "../Migrations"));
    }

    public void Dispose() => Directory.Delete(root, recursive: true);
}
