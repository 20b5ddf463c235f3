using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FakeTelegram;

/// <summary>
/// <c>/_fake/...</c>: what tests and scripts use to steer and inspect the fake. No token: it listens on
/// loopback for tests only.
/// </summary>
internal static class ControlEndpoints
{
    public static void Map(IEndpointRouteBuilder routes, FakeTelegramServer server)
    {
        var control = routes.MapGroup("/_fake");

        control.MapGet("/calls", http =>
        {
            var chat = ChatRef.TryParse(http.Request.Query["chat_id"].ToString(), out var c) ? c : (ChatRef?)null;
            var method = http.Request.Query["method"].ToString() is { Length: > 0 } m ? m : null;
            return Json(http, new JsonArray(server.State.Calls(method, chat).Select(r => (JsonNode?)ControlJson.Call(r)).ToArray()));
        });
        control.MapDelete("/calls", http => Mutate(http, server.ClearCalls));
        control.MapGet("/deliveries", http =>
        {
            var chat = ChatRef.TryParse(http.Request.Query["chat_id"].ToString(), out var c) ? c : (ChatRef?)null;
            return Json(http, new JsonArray(server.State.Deliveries(chat).Select(d => (JsonNode?)ControlJson.Delivery(d)).ToArray()));
        });
        control.MapGet("/stats", http => Json(http, ControlJson.Stats(server.Stats())));

        control.MapPost("/updates", http => Handle(http, body =>
        {
            var ids = Items(body).Select(u => server.EnqueueUpdate(u.AsObject())).ToList();
            return new JsonObject { ["update_ids"] = new JsonArray(ids.Select(id => (JsonNode?)id).ToArray()) };
        }));

        control.MapGet("/faults", http => Json(http, new JsonArray(server.PendingFaults().Select(f => (JsonNode?)ControlJson.Fault(f)).ToArray())));
        control.MapPost("/faults", http => Handle(http, body =>
        {
            // Parse all before adding any, so a bad item leaves the table as it was.
            var faults = Items(body).Select(f => ControlJson.ParseFault(f.AsObject())).ToList();
            faults.ForEach(server.InjectFault);
            return null;
        }));
        control.MapDelete("/faults", http => Mutate(http, server.ClearFaults));

        control.MapPost("/chats", http => Handle(http, body =>
        {
            foreach (var item in Items(body))
            {
                var chat = item.AsObject();
                server.State.AddChat(ControlJson.RequireChat(chat), ControlJson.String(chat, "type"));
            }

            return null;
        }));
        control.MapPost("/members", http => Handle(http, body =>
        {
            foreach (var item in Items(body))
            {
                var member = item.AsObject();
                var status = ControlJson.String(member, "status") ?? ChatMemberStatus.Member;
                if (!ChatMemberStatus.IsValid(status))
                {
                    throw new ControlException($"unknown status \"{status}\"");
                }

                server.State.SetChatMember(ControlJson.RequireChat(member), ControlJson.RequireLong(member, "user_id"), status);
            }

            return null;
        }));
        control.MapGet("/members", http =>
        {
            if (!ChatRef.TryParse(http.Request.Query["chat_id"].ToString(), out var chat)
                || !long.TryParse(http.Request.Query["user_id"].ToString(), CultureInfo.InvariantCulture, out var userId))
            {
                return Problem(http, "chat_id and user_id are required");
            }

            return Json(http, ControlJson.Member(server.State.ChatMemberStatusOf(chat, userId)));
        });
        control.MapGet("/messages", http =>
        {
            if (!ChatRef.TryParse(http.Request.Query["chat_id"].ToString(), out var chat)
                || !int.TryParse(http.Request.Query["message_id"].ToString(), CultureInfo.InvariantCulture, out var messageId))
            {
                return Problem(http, "chat_id and message_id are required");
            }

            return server.State.Message(chat, messageId) is { } message
                ? Json(http, ControlJson.Message(message))
                : Problem(http, "the fake knows no such message", StatusCodes.Status404NotFound);
        });
        control.MapPost("/bot-rights", http => Handle(http, body =>
        {
            foreach (var item in Items(body))
            {
                var rights = item.AsObject();
                server.State.SetBotRights(
                    ControlJson.RequireChat(rights),
                    ControlJson.Bool(rights, "can_restrict_members", true),
                    ControlJson.Bool(rights, "can_delete_messages", true));
            }

            return null;
        }));
        control.MapPost("/bot-removed", http => Handle(http, body =>
        {
            foreach (var item in Items(body))
            {
                server.State.RemoveBot(ControlJson.RequireChat(item.AsObject()));
            }

            return null;
        }));
        control.MapPost("/join-requests", http => Handle(http, body =>
        {
            foreach (var item in Items(body))
            {
                var request = item.AsObject();
                server.State.AddJoinRequest(ControlJson.RequireChat(request), ControlJson.RequireLong(request, "user_id"));
            }

            return null;
        }));
        control.MapPost("/blocked", http => Handle(http, body =>
        {
            foreach (var item in Items(body))
            {
                var blocked = item.AsObject();
                server.State.SetBlock(ControlJson.RequireChat(blocked), ControlJson.ParseBlock(ControlJson.String(blocked, "reason")));
            }

            return null;
        }));
        control.MapDelete("/blocked", http =>
        {
            if (!ChatRef.TryParse(http.Request.Query["chat_id"].ToString(), out var chat))
            {
                return Problem(http, "chat_id is missing or not a chat id");
            }

            return Mutate(http, () => server.State.SetBlock(chat, null));
        });

        control.MapGet("/limits", http => Json(http, ControlJson.Limits(server.RateLimits)));
        control.MapPost("/limits", http => Handle(http, body =>
        {
            server.SetRateLimits(ControlJson.ParseLimits(body.AsObject(), server.RateLimits));
            return ControlJson.Limits(server.RateLimits);
        }));

        control.MapGet("/webhook", http => Json(http, ControlJson.Webhook(server.Webhook)));
        control.MapPost("/reset", http => Mutate(http, server.Reset));
    }

    /// <summary>Reads a JSON body, acts on it, and answers its result (or 204); bad input is a 400 with the reason.</summary>
    private static async Task Handle(HttpContext http, Func<JsonNode, JsonNode?> act)
    {
        JsonNode? result;
        try
        {
            var body = await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted)
                ?? throw new ControlException("the body is empty");
            result = act(body);
        }
        catch (Exception e) when (e is JsonException or ControlException or InvalidOperationException or ArgumentException or FormatException)
        {
            await Problem(http, e.Message);
            return;
        }

        if (result is null)
        {
            http.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        await Json(http, result);
    }

    private static Task Mutate(HttpContext http, Action act)
    {
        act();
        http.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    /// <summary>One object or an array of them.</summary>
    private static IEnumerable<JsonNode> Items(JsonNode body) => body switch
    {
        JsonArray array => array.Select(i => i is JsonObject ? i : throw new ControlException("every item must be a JSON object")),
        JsonObject => [body],
        _ => throw new ControlException("expected a JSON object or an array of them"),
    };

    private static Task Problem(HttpContext http, string message, int status = StatusCodes.Status400BadRequest)
    {
        http.Response.StatusCode = status;
        return Json(http, new JsonObject { ["error"] = message }, setStatus: false);
    }

    private static async Task Json(HttpContext http, JsonNode body, bool setStatus = true)
    {
        if (setStatus)
        {
            http.Response.StatusCode = StatusCodes.Status200OK;
        }

        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body.ToJsonString(Relaxed), http.RequestAborted);
    }

    // People read this output: keep non-ASCII text as it is.
    private static readonly JsonSerializerOptions Relaxed = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
