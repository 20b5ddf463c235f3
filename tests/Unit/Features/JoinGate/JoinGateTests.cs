using Bot.Features.JoinGate;
using Telegram.Bot.Types;

namespace Bot.Tests.Unit.Features.JoinGate;

public sealed class JoinChallengeTests
{
    [Fact]
    public void Every_check_has_four_distinct_positive_answers_one_of_them_right_in_no_fixed_place()
    {
        var random = new Random(1234);
        var places = new HashSet<int>();
        for (var i = 0; i < 500; i++)
        {
            var check = JoinChallenge.Create(random);
            Assert.Equal(JoinChallenge.OptionCount, check.Options.Count);
            Assert.Equal(check.Options.Count, check.Options.Distinct().Count());
            Assert.All(check.Options, o => Assert.True(o > 0));
            Assert.Single(check.Options, o => o == check.A + check.B);
            places.Add(check.Options.ToList().IndexOf(check.Answer));
        }

        Assert.Equal(4, places.Count);
    }
}

public sealed class MembershipTests
{
    private static readonly User Someone = new() { Id = 1, FirstName = "T" };

    [Fact]
    public void Owners_admins_members_and_restricted_members_are_in_the_chat_others_are_not()
    {
        Assert.True(Membership.IsInChat(new ChatMemberOwner { User = Someone }));
        Assert.True(Membership.IsInChat(new ChatMemberAdministrator { User = Someone }));
        Assert.True(Membership.IsInChat(new ChatMemberMember { User = Someone }));
        Assert.True(Membership.IsInChat(new ChatMemberRestricted { User = Someone, IsMember = true }));
        Assert.False(Membership.IsInChat(new ChatMemberRestricted { User = Someone, IsMember = false }));
        Assert.False(Membership.IsInChat(new ChatMemberLeft { User = Someone }));
        Assert.False(Membership.IsInChat(new ChatMemberBanned { User = Someone }));
    }
}
