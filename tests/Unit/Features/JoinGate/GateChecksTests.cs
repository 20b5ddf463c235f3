using Bot.Features;
using Bot.Features.JoinGate;
using Telegram.Bot.Types;

namespace Bot.Tests.Unit.Features.JoinGate;

public sealed class GateChecksTests
{
    private static readonly Texts Texts = new();

    private static ChatGate Gate(string kind, params GateQuestion[] questions) =>
        new(-100, true, kind, 3, 600, null, questions, new Dictionary<string, string>(), null);

    [Fact]
    public void An_emoji_check_shows_eight_distinct_emoji_and_names_the_one_that_is_right_in_the_users_language()
    {
        var random = new Random(7);
        var places = new HashSet<int>();
        for (var i = 0; i < 300; i++)
        {
            var check = GateChecks.Create(Gate(GateCheckKind.Emoji), random, Texts, "ru");
            Assert.Equal(GateCheckKind.Emoji, check.Kind);
            Assert.Equal(GateChecks.EmojiShown, check.Buttons.Count);
            Assert.Equal(check.Buttons.Count, check.Buttons.Select(b => b.Label).Distinct().Count());
            var right = Assert.Single(check.Buttons, b => b.Correct);
            var name = GateChecks.EmojiPool.Single(e => e.Symbol == right.Label).Name;
            Assert.Equal(Texts.Format("ru", "JoinGate.check_emoji", ("name", Texts.Get("ru", $"JoinGate.emoji_{name}"))), check.Question);
            places.Add(check.Buttons.ToList().IndexOf(right));
        }

        Assert.Equal(GateChecks.EmojiShown, places.Count);
    }

    [Fact]
    public void Every_emoji_has_a_name_in_every_language_and_no_two_names_are_the_same()
    {
        foreach (var language in Texts.Languages)
        {
            var names = GateChecks.EmojiPool.Select(e => Texts.Get(language, $"JoinGate.emoji_{e.Name}")).ToList();
            Assert.Equal(names.Count, names.Distinct().Count());
        }
    }

    [Fact]
    public void A_question_check_asks_one_of_the_chats_questions_with_its_right_answer_among_the_wrong_ones()
    {
        var capital = new GateQuestion("Capital of France?", "Paris", ["Rome", "Berlin"]);
        var color = new GateQuestion("Colour of the sky?", "Blue", ["Green", "Red", "Black"]);
        var random = new Random(3);
        var asked = new HashSet<string>();
        for (var i = 0; i < 100; i++)
        {
            var check = GateChecks.Create(Gate(GateCheckKind.Questions, capital, color), random, Texts, "en");
            var question = check.Question == capital.Question ? capital : color;
            asked.Add(question.Question);
            Assert.Equal(question.Wrong.Count + 1, check.Buttons.Count);
            Assert.Equal(question.Right, Assert.Single(check.Buttons, b => b.Correct).Label);
            Assert.Equal(question.Wrong.Order(), check.Buttons.Where(b => !b.Correct).Select(b => b.Label).Order());
        }

        Assert.Equal(2, asked.Count);
    }

    [Fact]
    public void A_chat_set_to_questions_but_without_any_asks_the_sum()
    {
        var check = GateChecks.Create(Gate(GateCheckKind.Questions), new Random(1), Texts, "en");
        Assert.Equal(GateCheckKind.Arithmetic, check.Kind);
        Assert.Single(check.Buttons, b => b.Correct);
    }

    [Fact]
    public void Tokens_are_random_url_safe_and_fit_in_callback_data()
    {
        var tokens = Enumerable.Range(0, 1000).Select(_ => GateChecks.NewToken()).ToList();
        Assert.Equal(tokens.Count, tokens.Distinct().Count());
        Assert.All(tokens, t =>
        {
            Assert.Equal(16, t.Length);
            Assert.DoesNotContain(':', t);
            Assert.True(t.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'), t);
            Assert.True(System.Text.Encoding.UTF8.GetByteCount(JoinDecisions.CallbackPrefix + t) <= 64);
        });
    }

    [Theory]
    [InlineData("Capital of France? | Paris | Rome | Berlin", null)]
    [InlineData("Capital of France? | Paris", "JoinGate.question_format")]
    [InlineData("Capital of France? | | Rome", "JoinGate.question_format")]
    [InlineData("Q | a | b | c | d | e | f | g | h | i", "JoinGate.question_too_many")]
    [InlineData("Q | Paris | paris", "JoinGate.question_duplicate")]
    [InlineData("Q | a-very-long-answer-that-will-not-fit-on-a-button | b", "JoinGate.question_too_long")]
    public void An_admins_question_is_read_or_refused_with_the_reason(string text, string? problem)
    {
        var question = GateChecks.ParseQuestion(text, out var found);
        Assert.Equal(problem, found);
        Assert.Equal(problem is null, question is not null);
        if (question is not null)
        {
            Assert.Equal(("Capital of France?", "Paris"), (question.Question, question.Right));
            Assert.Equal(["Rome", "Berlin"], question.Wrong);
        }
    }

    [Fact]
    public void The_menu_steps_the_check_time_through_its_values_and_stops_at_either_end()
    {
        Assert.Equal(300, GateAdminHandler.Step(120, +1));
        Assert.Equal(60, GateAdminHandler.Step(120, -1));
        Assert.Null(GateAdminHandler.Step(60, -1));
        Assert.Null(GateAdminHandler.Step(86400, +1));
        // A default between two steps moves to the neighbouring step.
        Assert.Equal(600, GateAdminHandler.Step(450, +1));
        Assert.Equal(300, GateAdminHandler.Step(450, -1));
    }

    [Fact]
    public void A_join_is_a_change_from_outside_the_chat_to_inside_it()
    {
        var user = new User { Id = 1, FirstName = "T" };
        Assert.True(Membership.Joined(new ChatMemberLeft { User = user }, new ChatMemberMember { User = user }));
        Assert.True(Membership.Joined(new ChatMemberBanned { User = user }, new ChatMemberRestricted { User = user, IsMember = true }));
        Assert.False(Membership.Joined(new ChatMemberMember { User = user }, new ChatMemberRestricted { User = user, IsMember = true }));
        Assert.False(Membership.Joined(new ChatMemberRestricted { User = user, IsMember = true }, new ChatMemberMember { User = user }));
        Assert.False(Membership.Joined(new ChatMemberMember { User = user }, new ChatMemberLeft { User = user }));
    }
}
