using System.Security.Cryptography;
using System.Text;
using Bot.Features.MiniApp;

namespace Bot.Tests.Unit.Features.MiniApp;

/// <summary>
/// initData as the Bot API documents its check ("Validating data received via the Mini App"): the data-check-string of
/// the sorted fields without hash, HMAC-SHA-256 under HMAC-SHA-256("WebAppData", token), auth_date within the allowed age.
/// </summary>
public sealed class InitDataTests
{
    // A payload signed by Telegram, published with its (revoked, demonstration) bot token in the Telegram Mini Apps
    // project's documentation: not made by this code's signer, so a mistake shared by signer and checker cannot pass.
    private const string ReferenceToken = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8";

    private const string ReferenceInitData =
        "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C%22last_name%22%3A%22Kibenko%22"
        + "%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%7D&auth_date=1662771648"
        + "&hash=c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2";

    private const string Token = "123456789:unit-test-token-not-a-real-one-xx";
    private static readonly DateTimeOffset SignedAt = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private static readonly byte[] Key = InitData.SecretKey(Token);

    [Fact]
    public void Telegrams_reference_payload_is_valid_and_names_its_user()
    {
        var signed = DateTimeOffset.FromUnixTimeSeconds(1662771648);
        var (user, problem) = InitData.Validate(ReferenceInitData, InitData.SecretKey(ReferenceToken), Hour, signed.AddMinutes(5));

        Assert.Equal(InitDataProblem.None, problem);
        Assert.NotNull(user);
        Assert.Equal(279058397, user.Id);
        Assert.Equal("Vladislav", user.FirstName);
        Assert.Equal("vdkfrost", user.Username);
        Assert.Equal("ru", user.LanguageCode);
        Assert.Equal(signed, user.AuthDate);
    }

    [Fact]
    public void The_secret_key_is_the_tokens_hmac_keyed_with_WebAppData()
    {
        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes("WebAppData"));
        Assert.Equal(hmac.ComputeHash(Encoding.UTF8.GetBytes(Token)), InitData.SecretKey(Token));
    }

    [Fact]
    public void A_payload_signed_by_the_documented_steps_is_valid()
    {
        // Signed here step by step as the documentation says, not by InitData.Sign.
        const string user = """{"id":42,"first_name":"Ann & Bob","language_code":"en"}""";
        var checkString = $"auth_date={SignedAt.ToUnixTimeSeconds()}\nquery_id=Q1\nuser={user}";
        using var hmac = new HMACSHA256(Key);
        var hash = Convert.ToHexStringLower(hmac.ComputeHash(Encoding.UTF8.GetBytes(checkString)));
        var initData = $"user={Uri.EscapeDataString(user)}&query_id=Q1&auth_date={SignedAt.ToUnixTimeSeconds()}&hash={hash}";

        var (parsed, problem) = InitData.Validate(initData, Key, Hour, SignedAt.AddMinutes(1));

        Assert.Equal(InitDataProblem.None, problem);
        Assert.Equal(42, parsed!.Id);
        Assert.Equal("Ann & Bob", parsed.FirstName);
    }

    [Fact]
    public void A_wrong_hash_is_refused()
    {
        var initData = Signed();
        var wrong = initData[..^64] + new string('0', 64);
        Assert.Equal(InitDataProblem.WrongHash, InitData.Validate(wrong, Key, Hour, SignedAt).Problem);
        // The right hash of another bot's key.
        Assert.Equal(InitDataProblem.WrongHash, InitData.Validate(initData, InitData.SecretKey(Token + "x"), Hour, SignedAt).Problem);
        // Not hex, or not 32 bytes.
        Assert.Equal(InitDataProblem.WrongHash, InitData.Validate(initData[..^64] + new string('z', 64), Key, Hour, SignedAt).Problem);
        Assert.Equal(InitDataProblem.WrongHash, InitData.Validate(initData[..^2], Key, Hour, SignedAt).Problem);
    }

    [Theory]
    [InlineData("\"id\":42", "\"id\":43")]
    [InlineData("Ann", "Eve")]
    [InlineData("query_id=Q1", "query_id=Q2")]
    public void A_changed_field_is_refused(string from, string to)
    {
        var initData = Signed();
        var encodedFrom = from.Contains('=', StringComparison.Ordinal) ? from : Uri.EscapeDataString(from);
        var encodedTo = to.Contains('=', StringComparison.Ordinal) ? to : Uri.EscapeDataString(to);
        Assert.Contains(encodedFrom, initData, StringComparison.Ordinal);
        var changed = initData.Replace(encodedFrom, encodedTo, StringComparison.Ordinal);

        Assert.Equal(InitDataProblem.WrongHash, InitData.Validate(changed, Key, Hour, SignedAt).Problem);
    }

    [Fact]
    public void An_added_field_is_refused()
    {
        var initData = Signed();
        Assert.Equal(InitDataProblem.WrongHash, InitData.Validate("start_param=admin&" + initData, Key, Hour, SignedAt).Problem);
    }

    [Fact]
    public void An_expired_auth_date_is_refused_and_one_within_the_age_is_not()
    {
        var initData = Signed();
        Assert.Equal(InitDataProblem.None, InitData.Validate(initData, Key, Hour, SignedAt + Hour).Problem);
        Assert.Equal(InitDataProblem.Expired, InitData.Validate(initData, Key, Hour, SignedAt + Hour + TimeSpan.FromSeconds(1)).Problem);
        Assert.Equal(InitDataProblem.Expired, InitData.Validate(initData, Key, TimeSpan.FromMinutes(1), SignedAt.AddMinutes(2)).Problem);
    }

    [Fact]
    public void An_auth_date_ahead_of_the_clock_is_refused_beyond_a_minutes_skew()
    {
        var initData = Signed();
        Assert.Equal(InitDataProblem.None, InitData.Validate(initData, Key, Hour, SignedAt.AddSeconds(-59)).Problem);
        Assert.Equal(InitDataProblem.FromTheFuture, InitData.Validate(initData, Key, Hour, SignedAt.AddMinutes(-5)).Problem);
    }

    [Fact]
    public void A_missing_hash_is_refused()
    {
        var initData = Signed();
        var withoutHash = initData[..initData.IndexOf("&hash=", StringComparison.Ordinal)];
        Assert.Equal(InitDataProblem.MissingHash, InitData.Validate(withoutHash, Key, Hour, SignedAt).Problem);
    }

    [Fact]
    public void A_payload_without_a_user_is_refused_even_when_signed()
    {
        var initData = InitData.Sign(new Dictionary<string, string> { ["auth_date"] = SignedAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), ["query_id"] = "Q" }, Key);
        Assert.Equal(InitDataProblem.NoUser, InitData.Validate(initData, Key, Hour, SignedAt).Problem);
        var badUser = InitData.Sign(new Dictionary<string, string> { ["auth_date"] = SignedAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), ["user"] = "{\"first_name\":\"x\"}" }, Key);
        Assert.Equal(InitDataProblem.NoUser, InitData.Validate(badUser, Key, Hour, SignedAt).Problem);
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("=x&hash=00")]
    [InlineData("a=1&a=2")]
    public void Malformed_input_is_refused(string initData) =>
        Assert.Equal(InitDataProblem.Malformed, InitData.Validate(initData, Key, Hour, SignedAt).Problem);

    [Fact]
    public void A_repeated_field_is_refused_even_with_a_valid_hash_of_one_of_them()
    {
        var initData = Signed();
        Assert.Equal(InitDataProblem.Malformed, InitData.Validate(initData + "&user=%7B%22id%22%3A1%7D", Key, Hour, SignedAt).Problem);
    }

    [Fact]
    public void An_overlong_payload_is_refused_before_any_hashing()
    {
        var initData = Signed() + "&pad=" + new string('a', InitData.MaxLength);
        Assert.Equal(InitDataProblem.Malformed, InitData.Validate(initData, Key, Hour, SignedAt).Problem);
    }

    private static string Signed() => InitData.Sign(new Dictionary<string, string>
    {
        ["query_id"] = "Q1",
        ["user"] = """{"id":42,"first_name":"Ann","language_code":"en"}""",
        ["auth_date"] = SignedAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
    }, Key);
}
