using Bot.Features.Broadcasts;

namespace Bot.Tests.Unit.Features;

public sealed class AudienceTests
{
    [Fact]
    public void Everyone_is_stored_as_an_empty_filter_and_a_filter_as_only_its_keys()
    {
        Assert.Equal("{}", Audience.Everyone.ToJson());
        Assert.Equal("""{"languages":["ru"],"sources":["promo"],"activeWithinDays":30}""",
            new Audience(Languages: ["ru"], Sources: ["promo"], ActiveWithinDays: 30).ToJson());
        var parsed = Audience.FromJson("""{"languages":["ru","en"],"member":true,"list":"vip"}""");
        Assert.Equal(["ru", "en"], parsed.Languages!);
        Assert.True(parsed.Member);
        Assert.Equal("vip", parsed.List);
        Assert.True(Audience.FromJson("{}").IsEveryone);
    }

    [Theory]
    [InlineData("all", "{}")]
    [InlineData("lang=ru,EN source=promo", """{"languages":["ru","en"],"sources":["promo"]}""")]
    [InlineData("active=30 member list=vip-1", """{"activeWithinDays":30,"member":true,"list":"vip-1"}""")]
    [InlineData("after=2026-01-01 before=2026-06-01", """{"subscribedAfter":"2026-01-01T00:00:00+00:00","subscribedBefore":"2026-06-01T00:00:00+00:00"}""")]
    public void Admins_write_filters_as_key_value_pairs(string text, string json)
    {
        var audience = Audience.Parse(text, out var problem);
        Assert.Null(problem);
        Assert.Equal(json, audience!.ToJson());
    }

    [Theory]
    [InlineData("lang=", "lang=")]
    [InlineData("colour=blue", "colour=blue")]
    [InlineData("active=0", "audience.activeWithinDays must be between 1 and 3650")]
    [InlineData("lang=russian1", "audience.languages must be 1 to 20 language codes (2 to 8 lowercase letters, e.g. \"ru\")")]
    [InlineData("list=no/slash", "audience.list must be a list name of 1 to 64 letters, digits, '-' or '_'")]
    [InlineData("after=2026-06-01 before=2026-01-01", "audience.subscribedAfter must be earlier than audience.subscribedBefore")]
    public void A_filter_that_cannot_be_used_is_refused_with_what_is_wrong(string text, string expected)
    {
        Assert.Null(Audience.Parse(text, out var problem));
        Assert.Equal(expected, problem);
    }
}
