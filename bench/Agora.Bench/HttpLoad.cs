using System.Diagnostics;
using System.Text;

namespace Agora.Bench;

/// The .NET load generator: HttpClient on SocketsHttpHandler, one task per connection. Heavier than wrk (it
/// shares the machine's cores with the server), it is the fallback when wrk is missing and a cross-check of it.
internal static class HttpLoad
{
    public static async Task<Measurement> RunAsync(string baseUrl, Workload workload, int connections, double seconds)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, UseProxy = false })
        {
            BaseAddress = new Uri(baseUrl),
            Timeout = TimeSpan.FromSeconds(10),
        };
        var latencies = new List<double>[connections];
        long errors = 0;
        var duration = TimeSpan.FromSeconds(seconds);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async c =>
        {
            var mine = latencies[c] = new List<double>(64 * 1024);
            var i = c;
            var counter = 0L;
            while (clock.Elapsed < duration)
            {
                var path = workload.Paths[i++ % workload.Paths.Count];
                using var request = new HttpRequestMessage(new HttpMethod(workload.Method), path);
                if (workload.ApiKey is { } key)
                {
                    request.Headers.Add("X-Api-Key", key);
                }
                if (workload.BodyTemplate is { } template)
                {
                    var bodies = Enumerable.Range(0, workload.BodyRepeat).Select(_ => template.Replace("{n}", $"{c}-{++counter}"));
                    var body = workload.BodyRepeat > 1 ? "[" + string.Join(",", bodies) + "]" : bodies.First();
                    request.Content = new StringContent(body, Encoding.UTF8, "application/json");
                }
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await http.SendAsync(request);
                    await response.Content.LoadIntoBufferAsync();
                    if ((int)response.StatusCode >= 400)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }
                catch (TaskCanceledException)
                {
                    Interlocked.Increment(ref errors);
                }
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }));
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new Measurement(workload.Name, "http", connections, all.Length / clock.Elapsed.TotalSeconds,
            Percentile(all, 0.50), Percentile(all, 0.99), all.Length, errors);
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
}
