using System.Net;
using Bot.Admin;
using Microsoft.Extensions.Options;

namespace Bot.Tests.Unit.Admin;

public sealed class AdminAuthThrottleTests
{
    [Fact]
    public void An_address_that_spent_its_failures_is_locked_out_and_others_are_not()
    {
        using var throttle = new AdminAuthThrottle(Options.Create(new AdminOptions { FailedAuthenticationsPerMinute = 5 }));
        for (var i = 0; i < 5; i++)
        {
            Assert.False(throttle.IsLockedOut("10.0.0.1", out _));
            throttle.CountFailure("10.0.0.1");
        }

        // The partitioned limiter's own timer (every 100 ms) must not hand failures back within the window.
        Thread.Sleep(250);
        Assert.True(throttle.IsLockedOut("10.0.0.1", out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(10), retryAfter);
        Assert.False(throttle.IsLockedOut("10.0.0.2", out _));
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("::ffff:10.1.2.3", "10.1.2.3")]
    [InlineData("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64")]
    public void Clients_are_counted_per_address_and_ipv6_per_64(string address, string key) =>
        Assert.Equal(key, AdminAuthThrottle.ClientKey(IPAddress.Parse(address)));
}
