using Bot.Migrations;

namespace Bot.Tests.Unit.Migrations;

public sealed class MigrationCatalogTests
{
    [Fact]
    public void The_embedded_migrations_run_from_one_without_gaps_and_each_has_a_down_script()
    {
        var migrations = MigrationCatalog.Embedded;

        Assert.NotEmpty(migrations);
        Assert.Equal(Enumerable.Range(1, migrations.Count), migrations.Select(m => m.Version));
        Assert.All(migrations, m => Assert.False(string.IsNullOrWhiteSpace(m.Down)));
        Assert.Equal("inbox", migrations[0].Name);
    }

    [Fact]
    public void A_missing_down_script_is_refused() =>
        Assert.Contains("has no down script",
            Assert.Throws<InvalidOperationException>(() => MigrationCatalog.Parse([("0001_a.up.sql", "")])).Message, StringComparison.Ordinal);

    [Fact]
    public void A_gap_in_versions_is_refused() =>
        Assert.Contains("without gaps",
            Assert.Throws<InvalidOperationException>(() => MigrationCatalog.Parse(
                [("0001_a.up.sql", ""), ("0001_a.down.sql", ""), ("0003_c.up.sql", ""), ("0003_c.down.sql", "")])).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("1_a.up.sql")]
    [InlineData("0001_A.up.sql")]
    [InlineData("0001_a.sideways.sql")]
    [InlineData("0001-a.up.sql")]
    public void A_badly_named_file_is_refused(string name) =>
        Assert.Throws<InvalidOperationException>(() => MigrationCatalog.Parse([(name, "")]));

    [Fact]
    public void The_no_transaction_directive_is_read_per_direction()
    {
        var migration = Assert.Single(MigrationCatalog.Parse(
            [("0001_idx.up.sql", "-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (c);"), ("0001_idx.down.sql", "DROP INDEX i;")]));

        Assert.False(migration.UpInTransaction);
        Assert.True(migration.DownInTransaction);
    }

    [Fact]
    public void The_checksum_ignores_line_endings_but_not_content()
    {
        var unix = new Migration(1, "a", "CREATE TABLE t (c int);\n", "");
        var windows = new Migration(1, "a", "CREATE TABLE t (c int);\r\n", "");
        var edited = new Migration(1, "a", "CREATE TABLE t (c bigint);\n", "");

        Assert.Equal(unix.Checksum, windows.Checksum);
        Assert.NotEqual(unix.Checksum, edited.Checksum);
    }
}
