using System.Text.RegularExpressions;
using Bot.Features;

namespace Bot.Tests.Unit.Features;

public sealed partial class TextsTests
{
    private readonly Texts texts = new();

    [Fact]
    public void Every_text_exists_in_every_language_with_the_same_placeholders()
    {
        var english = texts.All[Texts.English];
        Assert.NotEmpty(english);
        foreach (var language in Texts.Languages)
        {
            var translated = texts.All[language];
            Assert.Equal(english.Keys.Order(), translated.Keys.Order());
            foreach (var (key, text) in english)
            {
                Assert.True(Placeholders(text).SetEquals(Placeholders(translated[key])), $"{language} {key} has other placeholders than English");
                Assert.False(string.IsNullOrWhiteSpace(translated[key]), $"{language} {key} is empty");
            }
        }
    }

    [Fact]
    public void Texts_of_every_feature_are_embedded()
    {
        foreach (var key in new[] { "Help.help", "Subscriptions.subscribed", "FloodControl.warning", "Broadcasts.status" })
        {
            Assert.NotEqual(texts.Get(Texts.English, key), texts.Get(Texts.Russian, key));
        }
    }

    [Fact]
    public void Format_fills_named_placeholders()
    {
        var custom = new Texts(new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            [Texts.English] = new Dictionary<string, string> { ["A.x"] = "{n} of {total}" },
        });

        Assert.Equal("3 of 10", custom.Format(Texts.English, "A.x", ("n", 3), ("total", 10)));
        // A language without the text falls back to English; an unknown key is an error, not an empty reply.
        Assert.Equal("{n} of {total}", custom.Get(Texts.Russian, "A.x"));
        Assert.Throws<KeyNotFoundException>(() => custom.Get(Texts.English, "A.missing"));
    }

    [Theory]
    [InlineData(null, "ru", "ru")]
    [InlineData(null, "ru-RU", "ru")]
    [InlineData(null, "uk", "en")]
    [InlineData(null, null, "en")]
    [InlineData("en", "ru", "en")]
    [InlineData("ru", "en", "ru")]
    [InlineData("xx", "ru", "ru")]
    public void The_language_is_the_users_choice_else_telegrams_language_code(string? chosen, string? code, string expected) =>
        Assert.Equal(expected, Texts.Resolve(chosen, code));

    private static HashSet<string> Placeholders(string text) => Placeholder().Matches(text).Select(m => m.Value).ToHashSet();

    [GeneratedRegex(@"\{[a-z_]+\}")]
    private static partial Regex Placeholder();
}
