using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Agora.Bench;

/// The ceiling: the least work an HTTP server on this machine can do per request. GET answers a fixed
/// 600-byte JSON document; POST reads a JSON body and answers 201. Every Agora figure is read as a ratio to it,
/// measured in the same run, so a busy or slow machine does not fool us.
internal static class Ceiling
{
    public const string Path = "/ceiling";
    public static readonly byte[] Document = MakeDocument();

    public static async Task RunAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.MapGet(Path, () => Results.Bytes(Document, "application/json"));
        app.MapPost(Path, async (HttpRequest request) =>
        {
            var buffer = new byte[4096];
            while (await request.Body.ReadAsync(buffer) > 0)
            {
            }
            return Results.StatusCode(201);
        });
        await app.RunAsync();
    }

    private static byte[] MakeDocument()
    {
        var head = """{"id":"urn:ngsi-ld:Streetlight:ceiling","type":"Streetlight","status":{"type":"Property","value":"ok"},"padding":""";
        var json = head + "\"" + new string('x', 600 - head.Length - 3) + "\"}";
        return System.Text.Encoding.UTF8.GetBytes(json);
    }
}
