using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Bot.Storage;
using static Bot.Storage.Sql;

namespace Bot.Features.JoinGate;

/// <summary>The kinds of check a chat may ask.</summary>
public static class GateCheckKind
{
    public const string Arithmetic = "arithmetic";
    public const string Emoji = "emoji";
    public const string Questions = "questions";

    public static readonly string[] All = [Arithmetic, Emoji, Questions];
}

/// <summary>A question of a chat's own list: the right answer and the wrong ones shown beside it.</summary>
public sealed record GateQuestion(
    [property: JsonPropertyName("q")] string Question,
    [property: JsonPropertyName("right")] string Right,
    [property: JsonPropertyName("wrong")] IReadOnlyList<string> Wrong);

[JsonSerializable(typeof(List<GateQuestion>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class GateSettingsJson : JsonSerializerContext;

/// <summary>
/// One chat's gate as it applies now: its own settings where its admins set them, the environment's defaults
/// elsewhere. <see cref="Active"/> is what decides whether joins to it are gated.
/// </summary>
public sealed record ChatGate(
    long ChatId, bool Enabled, string CheckKind, int Attempts, int DeadlineSeconds, long? LogChatId,
    IReadOnlyList<GateQuestion> Questions, IReadOnlyDictionary<string, string> Welcome, string? PausedReason)
{
    /// <summary>Gated now: switched on and not paused (the bot is in the chat with the rights it needs).</summary>
    public bool Active => Enabled && PausedReason is null;

    /// <summary>The kind a new check uses: questions only when the chat has some.</summary>
    public string EffectiveKind => CheckKind == GateCheckKind.Questions && Questions.Count == 0 ? GateCheckKind.Arithmetic : CheckKind;

    /// <summary>The welcome text in <paramref name="language"/>, else in English, else none.</summary>
    public string? WelcomeIn(string language) =>
        Welcome.TryGetValue(language, out var text) || Welcome.TryGetValue(Texts.English, out text) ? text : null;
}

/// <summary>
/// Per-chat gate settings (gate_settings) and their audit (gate_settings_audit): every change is stored with who
/// made it, the value before and after, and when, in the same statement as the change.
/// </summary>
public static class GateSettings
{
    /// <summary>The settings a chat's admins may change, each with its column and type.</summary>
    public static readonly IReadOnlyDictionary<string, (string Column, string Type)> Columns = new Dictionary<string, (string, string)>
    {
        ["enabled"] = ("enabled", "boolean"),
        ["check_kind"] = ("check_kind", "text"),
        ["attempts"] = ("attempts", "integer"),
        ["deadline_seconds"] = ("deadline_seconds", "integer"),
        ["log_chat_id"] = ("log_chat_id", "bigint"),
        ["questions"] = ("questions", "jsonb"),
        ["welcome"] = ("welcome", "jsonb"),
        ["paused_reason"] = ("paused_reason", "text"),
    };

    /// <summary>Audited changes are purged with the join decisions (Bot:JoinDecisionRetentionDays).</summary>
    public static readonly string AuditPurgeSql = Retention.BatchByTime("gate_settings_audit", "changed_at");

    /// <summary>The chat's gate: its stored settings over <paramref name="defaults"/>.</summary>
    public static async Task<ChatGate> GetAsync(Db db, long chatId, JoinGateOptions defaults, CancellationToken cancellationToken, bool forUpdate = false)
    {
        var stored = await db.FirstAsync(
            "SELECT enabled, check_kind, attempts, deadline_seconds, log_chat_id, questions::text, welcome::text, paused_reason FROM gate_settings WHERE chat_id = $1"
            + (forUpdate ? " FOR UPDATE" : ""),
            reader => new Stored(
                reader.IsDBNull(0) ? null : reader.GetBoolean(0), reader.StringOrNull(1), reader.IsDBNull(2) ? null : reader.GetInt32(2),
                reader.IsDBNull(3) ? null : reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetInt64(4), reader.GetString(5), reader.GetString(6),
                reader.StringOrNull(7)),
            cancellationToken, Arg(chatId));
        return Merge(chatId, stored, defaults);
    }

    /// <summary>Chats whose gate may be configured: the environment's gated chats and every chat with settings of its own.</summary>
    public static async Task<List<long>> KnownChatsAsync(Db db, JoinGateOptions defaults, CancellationToken cancellationToken)
    {
        var stored = await db.ListAsync("SELECT chat_id FROM gate_settings ORDER BY chat_id", reader => reader.GetInt64(0), cancellationToken);
        return [.. defaults.GatedChats.Concat(stored).Distinct().Order()];
    }

    /// <summary>
    /// Changes one setting of a chat and records who changed it from what to what. <paramref name="value"/> is the
    /// setting's new value as text (JSON for questions and welcome); <paramref name="before"/> the value that applied.
    /// </summary>
    public static Task ChangeAsync(Db db, long chatId, long userId, string setting, string? value, string? before, CancellationToken cancellationToken)
    {
        var (column, type) = Columns[setting];
        return db.ExecuteAsync(
            $"""
            WITH changed AS (
                INSERT INTO gate_settings AS g (chat_id, {column}) VALUES ($1, $3::{type})
                ON CONFLICT (chat_id) DO UPDATE SET {column} = excluded.{column}, updated_at = now()
                RETURNING 1
            )
            INSERT INTO gate_settings_audit (chat_id, user_id, setting, old_value, new_value)
            SELECT $1, $2, $4, $5, $3 FROM changed
            """,
            cancellationToken, Arg(chatId), Arg(userId), Arg(value), Arg(setting), Arg(before));
    }

    /// <summary>The newest changes of a chat's settings first.</summary>
    public static Task<List<SettingChange>> AuditAsync(Db db, long? chatId, int limit, CancellationToken cancellationToken) =>
        db.ListAsync(
            """
            SELECT id, chat_id, user_id, setting, old_value, new_value, changed_at FROM gate_settings_audit
            WHERE ($1::bigint IS NULL OR chat_id = $1) ORDER BY id DESC LIMIT $2
            """,
            reader => new SettingChange(
                reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), reader.StringOrNull(4), reader.StringOrNull(5),
                reader.GetFieldValue<DateTimeOffset>(6)),
            cancellationToken, Arg(chatId), Arg(limit));

    public static string ToText(bool value) => value ? "true" : "false";

    public static string ToText(int value) => value.ToString(CultureInfo.InvariantCulture);

    public static string ToJson(IReadOnlyList<GateQuestion> questions) =>
        JsonSerializer.Serialize(questions.ToList(), GateSettingsJson.Default.ListGateQuestion);

    public static string ToJson(IReadOnlyDictionary<string, string> welcome) =>
        JsonSerializer.Serialize(welcome.ToDictionary(), GateSettingsJson.Default.DictionaryStringString);

    private static ChatGate Merge(long chatId, Stored? stored, JoinGateOptions defaults) => new(
        chatId,
        stored?.Enabled ?? defaults.GatedChats.Contains(chatId),
        stored?.CheckKind ?? defaults.JoinCheckKind,
        stored?.Attempts ?? defaults.JoinAttempts,
        stored?.DeadlineSeconds ?? defaults.JoinCheckSeconds,
        // 0: the chat's admins turned the log off, whatever the environment's default.
        stored?.LogChatId is 0 ? null : stored?.LogChatId ?? defaults.LogChat,
        Read(stored?.Questions, GateSettingsJson.Default.ListGateQuestion),
        Read(stored?.Welcome, GateSettingsJson.Default.DictionaryStringString),
        stored?.PausedReason);

    /// <summary>A stored JSON column; an unreadable one (written by hand, say) counts as empty rather than failing the chat's gate.</summary>
    private static T Read<T>(string? json, JsonTypeInfo<T> type) where T : new()
    {
        try
        {
            return json is null ? new T() : JsonSerializer.Deserialize(json, type) ?? new T();
        }
        catch (JsonException)
        {
            return new T();
        }
    }

    private sealed record Stored(
        bool? Enabled, string? CheckKind, int? Attempts, int? DeadlineSeconds, long? LogChatId, string Questions, string Welcome, string? PausedReason);
}

/// <summary>One audited change of a chat's gate settings.</summary>
public sealed record SettingChange(long Id, long ChatId, long UserId, string Setting, string? OldValue, string? NewValue, DateTimeOffset ChangedAt);
