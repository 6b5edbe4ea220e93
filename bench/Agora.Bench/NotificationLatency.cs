using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Agora.Bench;

/// Time from a write's acknowledgement to the arrival of its notification at a local HTTP endpoint, with 100
/// subscriptions (one per entity) and writes paced at a fixed rate spread over the 100 entities.
internal static class NotificationLatency
{
    public const int Subscriptions = 100;

    public static async Task<Measurement> RunAsync(string agoraUrl, int port, int writesPerSecond, double seconds)
    {
        var received = new ConcurrentDictionary<long, long>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        await using var receiver = builder.Build();
        receiver.MapPost("/notify", async (HttpRequest request) =>
        {
            var at = Stopwatch.GetTimestamp();
            var body = await JsonNode.ParseAsync(request.Body);
            foreach (var entity in body?["data"]?.AsArray() ?? [])
            {
                if (entity?["seq"] is JsonValue seq)
                {
                    received.TryAdd(seq.GetValue<long>(), at);
                }
            }
            return Results.NoContent();
        });
        await receiver.StartAsync();

        var run = Guid.NewGuid().ToString("N")[..8];
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, UseProxy = false }) { BaseAddress = new Uri(agoraUrl) };
        var ids = Enumerable.Range(0, Subscriptions).Select(i => $"urn:ngsi-ld:Streetlight:notify-{run}-{i}").ToArray();
        var entities = "[" + string.Join(",", ids.Select(id => "{\"id\":\"" + id + "\",\"type\":\"Streetlight\",\"seq\":{\"type\":\"Property\",\"value\":-1}}")) + "]";
        (await http.PostAsync("/ngsi-ld/v1/entityOperations/upsert", Json(entities))).EnsureSuccessStatusCode();
        foreach (var id in ids)
        {
            var subscription = new JsonObject
            {
                ["type"] = "Subscription",
                ["entities"] = new JsonArray(new JsonObject { ["id"] = id, ["type"] = "Streetlight" }),
                ["watchedAttributes"] = new JsonArray("seq"),
                ["notification"] = new JsonObject
                {
                    ["attributes"] = new JsonArray("seq"),
                    ["format"] = "keyValues",
                    ["endpoint"] = new JsonObject { ["uri"] = $"http://127.0.0.1:{port}/notify", ["accept"] = "application/json" },
                },
            }.ToJsonString();
            (await http.PostAsync("/ngsi-ld/v1/subscriptions", Json(subscription))).EnsureSuccessStatusCode();
        }

        // Writes go out on a fixed schedule (not as fast as possible) from enough concurrent senders to keep it.
        var acknowledged = new ConcurrentDictionary<long, long>();
        long errors = 0;
        var total = (long)(writesPerSecond * seconds);
        var clock = Stopwatch.StartNew();
        var next = -1L;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
        {
            long n;
            while ((n = Interlocked.Increment(ref next)) < total)
            {
                var due = TimeSpan.FromSeconds((double)n / writesPerSecond);
                if (due > clock.Elapsed)
                {
                    await Task.Delay(due - clock.Elapsed);
                }
                var path = $"/ngsi-ld/v1/entities/{ids[n % Subscriptions]}/attrs";
                using var response = await http.PatchAsync(path, Json("{\"seq\":{\"type\":\"Property\",\"value\":" + n + "}}"));
                if (response.IsSuccessStatusCode)
                {
                    acknowledged[n] = Stopwatch.GetTimestamp();
                }
                else
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }));
        var sending = clock.Elapsed;
        var deadline = Stopwatch.StartNew();
        while (received.Count < acknowledged.Count && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }
        await receiver.StopAsync();

        // A notification can beat the acknowledgement to the client; it then counts as 0 ms.
        var latencies = acknowledged
            .Where(a => received.ContainsKey(a.Key))
            .Select(a => Math.Max(0, Stopwatch.GetElapsedTime(a.Value, received[a.Key]).TotalMilliseconds))
            .Order().ToArray();
        var missing = acknowledged.Count - latencies.Length;
        return new Measurement($"notification, {Subscriptions} subs, {writesPerSecond:N0} writes/s", "http", 32,
            acknowledged.Count / sending.TotalSeconds, Percentile(latencies, 0.5), Percentile(latencies, 0.99), acknowledged.Count, errors + missing);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
}
