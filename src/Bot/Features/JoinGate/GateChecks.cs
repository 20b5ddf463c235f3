using System.Globalization;
using System.Security.Cryptography;

namespace Bot.Features.JoinGate;

/// <summary>A button of a check: what it shows and whether it is the right answer (never sent to Telegram).</summary>
public sealed record CheckButton(string Label, bool Correct);

/// <summary>A check as the user sees it: the question in their language and the buttons, one of them right.</summary>
/// <param name="Kind">arithmetic, emoji or questions.</param>
/// <param name="Question">The question's text, to be put into the check's message.</param>
/// <param name="Buttons">In the order shown.</param>
/// <param name="PerRow">Buttons per keyboard row.</param>
public sealed record GateCheck(string Kind, string Question, IReadOnlyList<CheckButton> Buttons, int PerRow);

/// <summary>
/// The checks a chat may ask. Arithmetic: a small sum with four near answers. Emoji: eight shuffled emoji and the
/// name of one of them in the user's language, which a script reading the buttons cannot match without the text.
/// Questions: one of the chat's own, its right answer among the wrong ones, shuffled. The buttons carry tokens,
/// not these labels (<see cref="NewToken"/>).
/// </summary>
public static class GateChecks
{
    public const int EmojiShown = 8;

    /// <summary>The emoji pool: the symbol and the name of its text ("JoinGate.emoji_&lt;name&gt;").</summary>
    public static readonly IReadOnlyList<(string Symbol, string Name)> EmojiPool =
    [
        ("🐶", "dog"), ("🐱", "cat"), ("🍎", "apple"), ("🚗", "car"), ("🏠", "house"), ("⭐", "star"), ("🌙", "moon"), ("🌳", "tree"),
        ("🐟", "fish"), ("⚽", "ball"), ("🔑", "key"), ("🔔", "bell"), ("📖", "book"), ("🌸", "flower"), ("🚀", "rocket"), ("🎸", "guitar"),
    ];

    public static GateCheck Create(ChatGate gate, Random random, Texts texts, string language) => gate.EffectiveKind switch
    {
        GateCheckKind.Emoji => Emoji(random, texts, language),
        GateCheckKind.Questions => Question(gate.Questions[random.Next(gate.Questions.Count)], random),
        _ => Arithmetic(random, texts, language),
    };

    public static GateCheck Arithmetic(Random random, Texts texts, string language)
    {
        var challenge = JoinChallenge.Create(random);
        return new GateCheck(
            GateCheckKind.Arithmetic,
            texts.Format(language, "JoinGate.check_arithmetic", ("a", challenge.A), ("b", challenge.B)),
            [.. challenge.Options.Select(o => new CheckButton(o.ToString(CultureInfo.InvariantCulture), o == challenge.Answer))],
            PerRow: 2);
    }

    public static GateCheck Emoji(Random random, Texts texts, string language)
    {
        var pool = EmojiPool.ToArray();
        random.Shuffle(pool);
        var shown = pool[..EmojiShown];
        var target = shown[random.Next(EmojiShown)];
        return new GateCheck(
            GateCheckKind.Emoji,
            texts.Format(language, "JoinGate.check_emoji", ("name", texts.Get(language, $"JoinGate.emoji_{target.Name}"))),
            [.. shown.Select(e => new CheckButton(e.Symbol, e == target))],
            PerRow: 4);
    }

    public static GateCheck Question(GateQuestion question, Random random)
    {
        var buttons = question.Wrong.Select(w => new CheckButton(w, false)).Append(new CheckButton(question.Right, true)).ToArray();
        random.Shuffle(buttons);
        return new GateCheck(GateCheckKind.Questions, question.Question, buttons, PerRow: buttons.Length <= 4 ? 2 : 3);
    }

    /// <summary>A button's token: 96 random bits, URL-safe, no ':' (callback data "join:TOKEN", well inside Telegram's 64 bytes).</summary>
    public static string NewToken() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(12)).Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// A question an admin writes as "question | right answer | wrong answer | wrong answer ...": at least one wrong
    /// answer, at most seven, no empty part, each answer short enough for a button. Null with the reason otherwise.
    /// </summary>
    public static GateQuestion? ParseQuestion(string text, out string? problem)
    {
        var parts = text.Split('|', StringSplitOptions.TrimEntries);
        problem = parts switch
        {
            { Length: < 3 } => "JoinGate.question_format",
            { Length: > 9 } => "JoinGate.question_too_many",
            _ when parts.Any(p => p.Length == 0) => "JoinGate.question_format",
            _ when parts[0].Length > 300 || parts.Skip(1).Any(p => p.Length > 40) => "JoinGate.question_too_long",
            _ when parts.Skip(2).Contains(parts[1], StringComparer.OrdinalIgnoreCase) => "JoinGate.question_duplicate",
            _ => null,
        };
        return problem is null ? new GateQuestion(parts[0], parts[1], [.. parts.Skip(2)]) : null;
    }
}
