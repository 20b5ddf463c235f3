using Bot.Ingest;
using Microsoft.Extensions.Options;

namespace Bot.Tests.Unit.Ingest;

public sealed class IngestBudgetTests
{
    [Fact]
    public void Bodies_are_admitted_up_to_the_budget_and_room_comes_back_when_they_are_done()
    {
        var budget = new IngestBudget(Options.Create(new IngestOptions { MaxBufferedBytes = 4 * 1024 * 1024 }));
        Assert.True(budget.TryReserve(3 * 1024 * 1024));
        Assert.True(budget.TryReserve(1024 * 1024));
        Assert.False(budget.TryReserve(1));
        budget.Release(1024 * 1024);
        Assert.True(budget.TryReserve(1024 * 1024));
        Assert.Equal(4 * 1024 * 1024, budget.Held);
    }

    [Fact]
    public void A_budget_smaller_than_four_bodies_is_refused_at_start()
    {
        var result = new IngestBudgetValidator().Validate(null, new IngestOptions { MaxBodyBytes = 1024 * 1024, MaxBufferedBytes = 2 * 1024 * 1024 });
        Assert.True(result.Failed);
        Assert.Contains("Ingest:MaxBufferedBytes", result.FailureMessage, StringComparison.Ordinal);
    }
}
