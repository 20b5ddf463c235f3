using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FakeTelegram;

/// <summary>The control API's JSON, in Telegram's snake_case, built and read by hand: no reflection.</summary>
internal static class ControlJson
{
    public static JsonObject Call(CallRecord call)
    {
        var json = new JsonObject
        {
            ["seq"] = call.Sequence,
            ["method"] = call.Method,
            ["chat_id"] = ChatId(call.ChatId, call.ChatUsername),
            ["bot_id"] = call.BotId,
            ["token_fingerprint"] = call.TokenFingerprint,
            ["received_at"] = call.ReceivedAt.ToString("O", CultureInfo.InvariantCulture),
            ["status"] = call.Status,
            ["delivered"] = call.Delivered,
            ["paid"] = call.Paid,
            ["body"] = call.Body,
        };
        Optional(json, "description", call.Description);
        Optional(json, "retry_after", call.RetryAfter);
        Optional(json, "message_id", call.MessageId);
        Optional(json, "text", call.Text);
        Optional(json, "message_ids", call.MessageIds);
        Optional(json, "source_message_ids", call.SourceMessageIds);
        if (call.RateLimited)
        {
            json["rate_limited"] = true;
        }

        if (call.Injected)
        {
            json["injected"] = true;
        }

        if (call.TestEnvironment)
        {
            json["test_environment"] = true;
        }

        return json;
    }

    public static JsonObject Delivery(DeliveredMessage delivery)
    {
        var json = new JsonObject
        {
            ["seq"] = delivery.Sequence,
            ["chat_id"] = ChatId(delivery.ChatId, delivery.ChatUsername),
            ["message_id"] = delivery.MessageId,
            ["method"] = delivery.Method,
            ["at"] = delivery.At.ToString("O", CultureInfo.InvariantCulture),
        };
        Optional(json, "text", delivery.Text);
        Optional(json, "message_thread_id", delivery.MessageThreadId);
        return json;
    }

    public static JsonObject Message(MessageState message)
    {
        var json = new JsonObject
        {
            ["message_id"] = message.MessageId,
            ["from_bot"] = message.FromBot,
            ["edited"] = message.Edited,
            ["deleted"] = message.Deleted,
        };
        Optional(json, "text", message.Text);
        return json;
    }

    public static JsonObject Member(ChatMemberState member)
    {
        var permissions = new JsonObject();
        foreach (var (name, allowed) in member.Permissions)
        {
            permissions[name] = allowed;
        }

        return new JsonObject
        {
            ["status"] = member.Status,
            ["is_member"] = member.IsMember,
            ["can_send_messages"] = member.CanSendMessages,
            ["until_date"] = member.UntilDate,
            ["permissions"] = permissions,
        };
    }

    public static JsonObject Stats(FakeStats stats) => new()
    {
        ["calls"] = stats.Calls,
        ["by_method"] = Map(stats.ByMethod.OrderBy(m => m.Key, StringComparer.Ordinal), statuses => Map(statuses)),
        ["by_status"] = Map(stats.ByStatus),
        ["deliveries"] = stats.Deliveries,
        ["too_many_requests"] = stats.TooManyRequests,
        ["rate_limit_violations"] = stats.RateLimitViolations,
        ["paid_calls"] = stats.PaidCalls,
        ["max_global_rate_per_second"] = stats.MaxGlobalRatePerSecond,
        ["max_unpaid_rate_per_second"] = stats.MaxUnpaidRatePerSecond,
        ["max_delivery_rate_per_second"] = stats.MaxDeliveryRatePerSecond,
    };

    public static JsonObject Webhook(WebhookState webhook)
    {
        var json = new JsonObject
        {
            ["url"] = webhook.Url,
            ["has_secret_token"] = webhook.HasSecretToken,
            ["max_connections"] = webhook.MaxConnections,
            ["pending_update_count"] = webhook.PendingUpdateCount,
        };
        if (webhook.AllowedUpdates is { } allowed)
        {
            json["allowed_updates"] = new JsonArray(allowed.Select(a => (JsonNode?)a).ToArray());
        }

        return json;
    }

    public static JsonObject Limits(RateLimits limits) => new()
    {
        ["enabled"] = limits.Enabled,
        ["global"] = Limit(limits.Global),
        ["paid"] = Limit(limits.Paid),
        ["private_chat"] = Limit(limits.PrivateChat),
        ["group_chat"] = Limit(limits.GroupChat),
        ["private_chat_leeway_ms"] = limits.PrivateChatLeeway.TotalMilliseconds,
    };

    public static JsonObject Fault(Fault fault)
    {
        var json = new JsonObject
        {
            ["kind"] = fault.Kind.ToString().ToLowerInvariant(),
            ["count"] = fault.Count,
        };
        Optional(json, "method", fault.Method);
        Optional(json, "chat_id", fault.ChatId);
        switch (fault.Kind)
        {
            case FaultKind.Status:
                json["status"] = fault.StatusCode;
                Optional(json, "description", fault.Description);
                Optional(json, "retry_after", fault.RetryAfter);
                break;
            case FaultKind.Slow:
                json["delay_ms"] = fault.Delay.TotalMilliseconds;
                break;
            case FaultKind.Timeout:
                json["delivered"] = fault.Delivered;
                break;
        }

        return json;
    }

    /// <summary>
    /// <c>{"status":429,"retry_after":5}</c>, <c>{"delay_ms":2000}</c> or <c>{"timeout":true,"delivered":false}</c>,
    /// each with optional <c>method</c>, <c>chat_id</c> and <c>count</c> (default 1).
    /// </summary>
    public static Fault ParseFault(JsonObject json)
    {
        Fault fault;
        if (Bool(json, "timeout") || string.Equals(String(json, "kind"), "timeout", StringComparison.OrdinalIgnoreCase))
        {
            fault = FakeTelegram.Fault.Timeout(Bool(json, "delivered"));
        }
        else if (Long(json, "delay_ms") is { } delay)
        {
            fault = FakeTelegram.Fault.Slow(TimeSpan.FromMilliseconds(delay));
        }
        else if (Long(json, "status") is { } status)
        {
            var retryAfter = Long(json, "retry_after") is { } seconds ? (int)seconds : (int?)null;
            fault = String(json, "body") is { } body
                ? FakeTelegram.Fault.WithStatus((int)status, String(json, "description"), retryAfter).WithRawBody(body)
                : FakeTelegram.Fault.WithStatus((int)status, String(json, "description"), retryAfter);
        }
        else
        {
            throw new ControlException("a fault needs \"status\", \"delay_ms\" or \"timeout\": true");
        }

        return fault with
        {
            Method = String(json, "method"),
            ChatId = Long(json, "chat_id"),
            Count = Long(json, "count") is { } count ? (int)count : 1,
        };
    }

    /// <summary>Changes only the limits named; <c>"enabled": false</c> turns them all off, <c>true</c> restores Telegram's.</summary>
    public static RateLimits ParseLimits(JsonObject json, RateLimits current)
    {
        var limits = json["enabled"] is JsonValue enabled && enabled.GetValueKind() is JsonValueKind.True or JsonValueKind.False
            ? (enabled.GetValue<bool>() ? RateLimits.Telegram : RateLimits.None)
            : current;
        if (json.ContainsKey("global"))
        {
            limits = limits with { Global = ParseLimit(json["global"]) };
        }

        if (json.ContainsKey("paid"))
        {
            limits = limits with { Paid = ParseLimit(json["paid"]) };
        }

        if (json.ContainsKey("private_chat"))
        {
            limits = limits with { PrivateChat = ParseLimit(json["private_chat"]) };
        }

        if (json.ContainsKey("group_chat"))
        {
            limits = limits with { GroupChat = ParseLimit(json["group_chat"]) };
        }

        if (Long(json, "private_chat_leeway_ms") is { } leeway)
        {
            limits = limits with { PrivateChatLeeway = TimeSpan.FromMilliseconds(leeway) };
        }

        return limits;
    }

    public static ChatBlock? ParseBlock(string? reason) => reason?.ToLowerInvariant() switch
    {
        null or "" or "blocked" or "blocked_by_user" => ChatBlock.BlockedByUser,
        "deactivated" or "user_deactivated" => ChatBlock.UserDeactivated,
        "kicked" => ChatBlock.Kicked,
        "none" => null,
        _ => throw new ControlException($"unknown block reason \"{reason}\" (blocked_by_user, user_deactivated, kicked, none)"),
    };

    public static ChatRef RequireChat(JsonObject json) =>
        ChatRef.TryParse(json["chat_id"], out var chat) ? chat : throw new ControlException("\"chat_id\" is missing or not a chat id");

    public static long RequireLong(JsonObject json, string name) =>
        Long(json, name) ?? throw new ControlException($"\"{name}\" is missing or not a number");

    public static string? String(JsonObject json, string name) =>
        json[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public static long? Long(JsonObject json, string name) => json[name] switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.TryGetValue<long>(out var l) ? l : (long)v.GetValue<double>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.String
            && long.TryParse(v.GetValue<string>(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed) => parsed,
        null => null,
        _ => throw new ControlException($"\"{name}\" is not a number"),
    };

    private static bool Bool(JsonObject json, string name) =>
        json[name] is JsonValue v && v.GetValueKind() == JsonValueKind.True;

    /// <summary>A true or false field, or <paramref name="absent"/> when it is missing or null.</summary>
    public static bool Bool(JsonObject json, string name, bool absent) => json[name] switch
    {
        null => absent,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        _ => throw new ControlException($"\"{name}\" is not true or false"),
    };

    private static WindowLimit? ParseLimit(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => new WindowLimit(
            (int)RequireLong(o, "count"),
            TimeSpan.FromMilliseconds(RequireLong(o, "window_ms"))),
        _ => throw new ControlException("a limit is null or {\"count\":N,\"window_ms\":MS}"),
    };

    private static JsonObject? Limit(WindowLimit? limit) => limit is null
        ? null
        : new JsonObject { ["count"] = limit.Count, ["window_ms"] = limit.Window.TotalMilliseconds };

    private static JsonValue? ChatId(long? id, string? username) => id is { } number ? JsonValue.Create(number) : JsonValue.Create(username);

    private static JsonObject Map(IEnumerable<KeyValuePair<string, long>> counts)
    {
        var json = new JsonObject();
        foreach (var (key, count) in counts.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            json[key] = count;
        }

        return json;
    }

    private static JsonObject Map<T>(IEnumerable<KeyValuePair<string, T>> items, Func<T, JsonNode> convert)
    {
        var json = new JsonObject();
        foreach (var (key, value) in items)
        {
            json[key] = convert(value);
        }

        return json;
    }

    private static void Optional(JsonObject json, string name, string? value)
    {
        if (value is not null)
        {
            json[name] = value;
        }
    }

    private static void Optional(JsonObject json, string name, IReadOnlyList<int>? values)
    {
        if (values is not null)
        {
            json[name] = new JsonArray(values.Select(v => (JsonNode?)v).ToArray());
        }
    }

    private static void Optional(JsonObject json, string name, long? value)
    {
        if (value is not null)
        {
            json[name] = value;
        }
    }
}

/// <summary>A control request the fake cannot act on; answered 400 with the message.</summary>
internal sealed class ControlException(string message) : Exception(message);
