using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Agora.Bench;

// agora bench: starts Agora (Release) as its own process on a temporary store, loads a synthetic city through
// batch upserts, then measures each path for a fixed time with a fixed number of connections.
var options = BenchOptions.Parse(args);
var repo = FindRepository();
var dll = Path.Combine(repo, "src", "Agora", "bin", "Release", "net10.0", "Agora.dll");
if (!File.Exists(dll))
{
    Console.Error.WriteLine($"Agora is not built at {dll}; run: dotnet build -c Release bench/Agora.Bench");
    return 2;
}
var data = Path.Combine(Path.GetTempPath(), "agora-bench-" + Guid.NewGuid().ToString("N"));
var port = FreePort();
using var server = Process.Start(new ProcessStartInfo("dotnet", $"\"{dll}\" serve --port {port} --data \"{data}\"")
{
    RedirectStandardOutput = true,
    RedirectStandardError = true,
    UseShellExecute = false,
})!;
server.OutputDataReceived += (_, _) => { };
server.ErrorDataReceived += (_, _) => { };
server.BeginOutputReadLine();
server.BeginErrorReadLine();
try
{
    var baseUrl = $"http://127.0.0.1:{port}/ngsi-ld/v1";
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, UseProxy = false }) { BaseAddress = new Uri(baseUrl + "/") };
    await WaitUntilUpAsync(http);

    var city = new SyntheticCity(seed: 42);
    var loadWatch = Stopwatch.StartNew();
    await Load.RunAsync(http, city, options.Entities, batchSize: 1000, parallel: 2);
    var loadSeconds = loadWatch.Elapsed.TotalSeconds;
    Console.WriteLine($"Loaded {options.Entities:N0} entities in {loadSeconds:F1} s ({options.Entities / loadSeconds:N0} entities/s through batch upserts of 1,000).");

    var points = Enumerable.Range(0, 1000).Select(_ => city.RandomPoint()).ToArray();
    var random = new Random(7);
    var paths = new (string Name, Func<string> Url)[]
    {
        ("GET one entity", () => $"entities/urn:ngsi-ld:{SyntheticCity.Types[1]}:{(random.Next(options.Entities / 5) * 5 + 1):D7}"),
        ("query type + selective q, limit 20", () => "entities?type=OffStreetParking&q=availableSpotNumber%3C3&limit=20"),
        ("geo-query near 500 m, limit 20", () =>
        {
            var (lon, lat) = points[random.Next(points.Length)];
            return FormattableString.Invariant($"entities?type=Streetlight&georel=near%3BmaxDistance%3D%3D500&geometry=Point&coordinates=%5B{lon:F5},{lat:F5}%5D&limit=20");
        }),
    };

    Console.WriteLine();
    Console.WriteLine($"{"path",-38} {"conns",5} {"req/s",9} {"p50 ms",8} {"p99 ms",8} {"errors",7}");
    foreach (var (name, url) in paths)
    {
        foreach (var connections in options.Connections)
        {
            var result = await Measure.RunAsync(http, url, connections, TimeSpan.FromSeconds(options.Seconds));
            Console.WriteLine($"{name,-38} {connections,5} {result.RequestsPerSecond,9:N0} {result.P50,8:F2} {result.P99,8:F2} {result.Errors,7}");
        }
    }
    Console.WriteLine();
    Console.WriteLine($"Agora resident memory after the run: {ResidentMegabytes(server.Id):N0} MB; machine: {Environment.ProcessorCount} cores.");
    return 0;
}
finally
{
    server.Kill(entireProcessTree: true);
    await server.WaitForExitAsync();
    try
    {
        Directory.Delete(data, recursive: true);
    }
    catch (IOException)
    {
        // A temp folder left behind is harmless.
    }
}

static string FindRepository()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Agora.slnx")))
        {
            return dir.FullName;
        }
    }
    throw new InvalidOperationException("Run the benchmark from inside the Agora repository.");
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static async Task WaitUntilUpAsync(HttpClient http)
{
    for (var i = 0; i < 200; i++)
    {
        try
        {
            using var response = await http.GetAsync("jsonldContexts");
            if (response.IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (HttpRequestException)
        {
            // Not listening yet.
        }
        await Task.Delay(100);
    }
    throw new TimeoutException("Agora did not start within 20 s.");
}

static long ResidentMegabytes(int pid)
{
    foreach (var line in File.ReadLines($"/proc/{pid}/status"))
    {
        if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
        {
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
        }
    }
    return -1;
}

internal sealed record BenchOptions(int Entities, double Seconds, int[] Connections)
{
    public static BenchOptions Parse(string[] args)
    {
        var entities = 100_000;
        var seconds = 5.0;
        int[] connections = [1, 16];
        for (var i = 0; i < args.Length - 1; i++)
        {
            switch (args[i])
            {
                case "--entities": entities = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--connections": connections = [.. args[++i].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))]; break;
            }
        }
        return new BenchOptions(entities, seconds, connections);
    }
}

internal static class Load
{
    public static async Task RunAsync(HttpClient http, SyntheticCity city, int count, int batchSize, int parallel)
    {
        var next = 0;
        var gate = new object();
        async Task Worker()
        {
            while (true)
            {
                string body;
                lock (gate)
                {
                    if (next >= count)
                    {
                        return;
                    }
                    var from = next;
                    var to = Math.Min(count, from + batchSize);
                    next = to;
                    var b = new StringBuilder("[");
                    for (var i = from; i < to; i++)
                    {
                        if (i > from)
                        {
                            b.Append(',');
                        }
                        b.Append(city.Entity(i));
                    }
                    body = b.Append(']').ToString();
                }
                using var response = await http.PostAsync("entityOperations/upsert", new StringContent(body, Encoding.UTF8, "application/json"));
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"Batch upsert failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(_ => Worker()));
    }
}

internal sealed record Result(double RequestsPerSecond, double P50, double P99, long Errors);

internal static class Measure
{
    public static async Task<Result> RunAsync(HttpClient http, Func<string> url, int connections, TimeSpan duration)
    {
        // A short warm-up so that JIT and caches do not count.
        for (var i = 0; i < 50; i++)
        {
            using var _ = await http.GetAsync(url());
        }
        var latencies = new List<double>[connections];
        long errors = 0;
        var stop = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async c =>
        {
            var mine = latencies[c] = new List<double>(100_000);
            while (stop.Elapsed < duration)
            {
                string target;
                lock (latencies)
                {
                    target = url();
                }
                var started = Stopwatch.GetTimestamp();
                using var response = await http.GetAsync(target, HttpCompletionOption.ResponseContentRead);
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }));
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new Result(all.Length / stop.Elapsed.TotalSeconds, Percentile(all, 0.50), Percentile(all, 0.99), errors);
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
}
