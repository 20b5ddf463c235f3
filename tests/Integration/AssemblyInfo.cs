using Bot.Tests.Integration.Infrastructure;

[assembly: AssemblyFixture(typeof(SharedPostgres))]
