using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Bot.Tests.Integration.Infrastructure;

/// <summary>
/// HTTP/1.1 written byte for byte, for requests that HttpClient would normalise (a path's case, percent-encoding,
/// dot segments, doubled slashes) and from a chosen loopback source address (another client, as the bot sees it).
/// </summary>
public static class RawHttp
{
    public sealed record Answer(int Status, string Head, string Body)
    {
        public string? Header(string name) => Head.Split("\r\n").Skip(1)
            .Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            .Select(p => p[1].Trim()).FirstOrDefault();
    }

    public static async Task<Answer> SendAsync(
        int port, string method, string target, string? bearer = null, string? body = null, IPAddress? from = null, params string[] headers)
    {
        var request = new StringBuilder($"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
        if (bearer is not null)
        {
            request.Append($"Authorization: Bearer {bearer}\r\n");
        }

        foreach (var header in headers)
        {
            request.Append(header).Append("\r\n");
        }

        var content = body is null ? [] : Encoding.UTF8.GetBytes(body);
        if (body is not null)
        {
            request.Append($"Content-Type: application/json\r\nContent-Length: {content.Length}\r\n");
        }
        else if (method is "POST" or "PUT")
        {
            request.Append("Content-Length: 0\r\n");
        }

        request.Append("\r\n");
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (from is not null)
        {
            socket.Bind(new IPEndPoint(from, 0));
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()), timeout.Token);
        await stream.WriteAsync(content, timeout.Token);
        using var reader = new MemoryStream();
        await stream.CopyToAsync(reader, timeout.Token);
        var text = Encoding.UTF8.GetString(reader.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = split < 0 ? text : text[..split];
        var status = head.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) ? int.Parse(head.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture) : 0;
        return new Answer(status, head, split < 0 ? "" : text[(split + 4)..]);
    }
}
