using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Agora.Bench;

/// One benchmark run: a ceiling server and Agora, each its own process on this machine; a synthetic city
/// loaded through batch upserts; then each path for a fixed time with a fixed number of connections, reported
/// as requests/s, p50, p99 and the ratio to the ceiling measured in the same run.
internal static class BenchRun
{
    /// A measured path; Ratio is to the ceiling, or for the market's reads to the same read with the admin key
    /// (RatioTo says which).
    private sealed record Row(Measurement M, double? EntitiesPerSecond, double? Ratio, string Target, string RatioTo = "ceiling");

    public static async Task<int> RunAsync(BenchOptions options, TextWriter output)
    {
        var agoraDll = options.Agora ?? FindAgora();
        var data = Path.Combine(Path.GetTempPath(), "agora-bench-" + Guid.NewGuid().ToString("N"));
        var (ceilingPort, agoraPort) = (FreePort(), FreePort());
        using var ceiling = Start($"\"{typeof(BenchRun).Assembly.Location}\" ceiling --port {ceilingPort}");
        // On PostgreSQL the run gets a schema of its own, left behind for inspection (DROP SCHEMA ... CASCADE).
        var store = options.Postgres is null ? ""
            : $" --Agora:Storage:Provider Postgres --Agora:Storage:ConnectionString \"{options.Postgres}\" --Agora:Storage:Schema bench_{Guid.NewGuid():N}";
        var agora = Start($"\"{agoraDll}\" serve --port {agoraPort} --data \"{data}\"{store}");
        try
        {
            var ceilingUrl = $"http://127.0.0.1:{ceilingPort}";
            var agoraUrl = $"http://127.0.0.1:{agoraPort}";
            await WaitUntilUpAsync($"{ceilingUrl}{Ceiling.Path}");
            await WaitUntilUpAsync($"{agoraUrl}/ngsi-ld/v1/jsonldContexts");

            var city = new SyntheticCity(seed: 42);
            var loadClock = Stopwatch.StartNew();
            // Agora's own CPU time per entity loaded: unlike a rate, it holds still when other work shares the machine.
            var cpuBeforeLoad = agora.TotalProcessorTime;
            await LoadAsync(agoraUrl, city, options.Entities);
            var loadRate = options.Entities / loadClock.Elapsed.TotalSeconds;
            agora.Refresh();
            var loadCpuMsPerThousand = (agora.TotalProcessorTime - cpuBeforeLoad).TotalMilliseconds * 1000 / options.Entities;
            var memoryAfterLoad = ResidentMegabytes(agora.Id);

            var run = Guid.NewGuid().ToString("N")[..8];
            var random = new Random(7);
            var points = Enumerable.Range(0, 1000).Select(_ => city.RandomPoint()).ToArray();
            var ceilingPost = Encoding.UTF8.GetString(Ceiling.Document).Replace("urn:ngsi-ld:Streetlight:ceiling", "urn:ngsi-ld:Streetlight:ceiling-{n}", StringComparison.Ordinal);
            var entity = city.Entity("Streetlight", $"bench-{run}-{{n}}");
            var workloads = new (Workload W, string Url, string Target)[]
            {
                (new Workload("ceiling GET", "GET", [Ceiling.Path]), ceilingUrl, ""),
                (new Workload("ceiling POST", "POST", [Ceiling.Path], ceilingPost), ceilingUrl, ""),
                (new Workload("GET one entity", "GET",
                    [.. Enumerable.Range(0, 1000).Select(_ => EntityPath(random.Next(Math.Max(1, options.Entities))))]), agoraUrl, ">= 0.6 of ceiling GET"),
                (new Workload("create one entity", "POST", ["/ngsi-ld/v1/entities"], entity), agoraUrl, ">= 0.2 of ceiling POST"),
                // The IoT agent's path: one attribute of a random loaded entity (a Streetlight: every fifth one).
                (new Workload("partial attribute update", "PATCH",
                    [.. Enumerable.Range(0, 1000).Select(_ => EntityPath(Math.Max(1, options.Entities / 5) is var n ? random.Next(n) * 5 + 4 : 0) + "/attrs")],
                    """{"status":{"type":"Property","value":"ok {n}"}}"""), agoraUrl, ">= 0.2 of ceiling POST"),
                // Batches go to one writer: two connections keep it busy; more would only queue 1,000-entity bodies.
                (new Workload("batch upsert of 1,000", "POST", ["/ngsi-ld/v1/entityOperations/upsert"], city.Entity("Streetlight", $"batch-{run}-{{n}}"), 1000, Connections: 2), agoraUrl, ">= 50,000 entities/s"),
                (new Workload("query type + selective q, limit 20", "GET",
                    ["/ngsi-ld/v1/entities?type=OffStreetParking&q=availableSpotNumber%3C3&limit=20"]), agoraUrl, ">= 8,000 /s; p50 < 5 ms"),
                (new Workload("geo-query near 500 m, limit 20", "GET",
                    [.. points.Select(p => FormattableString.Invariant($"/ngsi-ld/v1/entities?type=Streetlight&georel=near%3BmaxDistance%3D%3D500&geometry=Point&coordinates=%5B{p.Lon:F5},{p.Lat:F5}%5D&limit=20"))]), agoraUrl, ">= 5,000 /s; p50 < 5 ms"),
            };

            var rows = new List<Row>();
            Measurement? ceilingGet = null, ceilingPostResult = null;
            foreach (var (workload, url, target) in workloads)
            {
                var measured = await MeasureAsync(options, url, workload);
                if (workload.Name == "ceiling GET")
                {
                    ceilingGet = measured;
                }
                else if (workload.Name == "ceiling POST")
                {
                    ceilingPostResult = measured;
                }
                var baseline = workload.Method == "GET" ? ceilingGet : ceilingPostResult;
                double? entitiesPerSecond = workload.BodyRepeat > 1 ? measured.RequestsPerSecond * workload.BodyRepeat : null;
                rows.Add(new Row(measured, entitiesPerSecond, baseline is null || workload.Name.StartsWith("ceiling", StringComparison.Ordinal) ? null : measured.RequestsPerSecond / baseline.RequestsPerSecond, target));
                if (options.Generator == "wrk" && workload.Name.StartsWith("ceiling", StringComparison.Ordinal))
                {
                    // The same ceiling through the .NET client shows how much the generator itself costs.
                    rows.Add(new Row(await HttpLoad.RunAsync(url, workload, options.Connections, options.Seconds), null, null, "cross-check of wrk"));
                }
            }
            // Notification latency: after the request paths, so that its subscriptions touch no other path.
            await NotificationLatency.RunAsync(agoraUrl, FreePort(), 1000, Math.Min(options.Seconds, 3));
            var latency = await NotificationLatency.RunAsync(agoraUrl, FreePort(), 1000, options.Seconds);
            rows.Add(new Row(latency, null, null, "write to receipt p99 < 50 ms"));
            var historyLoadRate = await TemporalAggregation.LoadAsync(agoraUrl, options.Instances);
            rows.Add(new Row(await TemporalAggregation.RunAsync(agoraUrl, 20), null, null, $"median < 100 ms ({options.Instances:N0} instances)"));
            var memoryAfterRun = ResidentMegabytes(agora.Id);

            // The market's reads: the same store served again in Secured mode.
            Stop(agora);
            agora.Dispose();
            var admin = await MarketPaths.AdminKeyAsync(agoraDll, data, store);
            agora = Start($"\"{agoraDll}\" serve --port {agoraPort} --data \"{data}\"{store}{MarketPaths.Secured}");
            await WaitUntilUpAsync(agoraUrl + MarketPaths.Probe);
            var (agreementKey, accountKey) = await MarketPaths.AgreementsAsync(agoraUrl, admin);
            Workload Named(string name) => workloads.Single(w => w.W.Name == name).W;
            Measurement? byAdmin = null;
            foreach (var workload in MarketPaths.Workloads(Named("GET one entity"), Named("query type + selective q, limit 20"), admin, agreementKey, accountKey))
            {
                var measured = await MeasureAsync(options, agoraUrl, workload);
                if (workload.ApiKey == admin)
                {
                    byAdmin = measured;
                    rows.Add(new Row(measured, null, measured.RequestsPerSecond / ceilingGet!.RequestsPerSecond, "Secured mode", "ceiling"));
                }
                else
                {
                    rows.Add(new Row(measured, null, measured.RequestsPerSecond / byAdmin!.RequestsPerSecond, ">= 0.8 of the admin key's", "admin key"));
                }
            }

            Print(output, options, rows, loadRate, memoryAfterLoad, memoryAfterRun);
            output.WriteLine(FormattableString.Invariant($"Loading cost Agora {loadCpuMsPerThousand:N0} ms of CPU per 1,000 entities."));
            output.WriteLine(FormattableString.Invariant($"History: {options.Instances:N0} instances of one attribute loaded at {historyLoadRate:N0} instances/s."));
            if (options.Json is { } json)
            {
                await File.WriteAllTextAsync(json, JsonSerializer.Serialize(new
                {
                    date = DateTimeOffset.UtcNow,
                    cores = Environment.ProcessorCount,
                    options.Entities,
                    options.Seconds,
                    options.Connections,
                    generator = options.Generator,
                    loadEntitiesPerSecond = loadRate,
                    loadCpuMillisecondsPerThousandEntities = loadCpuMsPerThousand,
                    historyInstances = options.Instances,
                    historyLoadInstancesPerSecond = historyLoadRate,
                    residentMegabytesAfterLoad = memoryAfterLoad.Resident,
                    residentMegabytesAfterRun = memoryAfterRun.Resident,
                    mappedFileMegabytesAfterLoad = memoryAfterLoad.MappedFiles,
                    mappedFileMegabytesAfterRun = memoryAfterRun.MappedFiles,
                    paths = rows.Select(r => new
                    {
                        name = r.M.Name, generator = r.M.Generator, connections = r.M.Connections, requestsPerSecond = r.M.RequestsPerSecond,
                        entitiesPerSecond = r.EntitiesPerSecond, p50Ms = r.M.P50Ms, p99Ms = r.M.P99Ms, requests = r.M.Requests,
                        errors = r.M.Errors, ratio = r.Ratio, ratioTo = r.Ratio is null ? null : r.RatioTo, target = r.Target,
                    }),
                }, new JsonSerializerOptions { WriteIndented = true }));
            }
            return rows.Any(r => r.M.Errors > 0) ? 1 : 0;
        }
        finally
        {
            Stop(agora);
            agora.Dispose();
            Stop(ceiling);
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
                // A temporary folder left behind is harmless.
            }
        }
    }

    private static async Task<Measurement> MeasureAsync(BenchOptions options, string url, Workload workload)
    {
        var connections = Math.Min(workload.Connections ?? options.Connections, options.Connections);
        // A batch takes long enough that a short window would end before the first answer.
        var seconds = workload.BodyRepeat > 1 ? Math.Max(options.Seconds, 3) : options.Seconds;
        // Each path first runs unmeasured until the JIT has compiled its code at full optimization: without it,
        // a 2-second window measured 1,045 creates/s where the warm server does 6,600. With both cores serving,
        // the JIT's background thread gets little time, and one fixed warm-up was not enough: GET one entity ran
        // at 10,500/s in the first 4 s, 30,200/s in the next 4 and 37,400/s in the third. So the warm-up goes on,
        // window by window, until two windows in a row agree within 5% (at most --warmup windows, 10 unless told).
        var window = Math.Min(seconds, 3);
        var previous = (await Run(window)).RequestsPerSecond;
        for (var i = 1; i < options.WarmupWindows; i++)
        {
            var current = (await Run(window)).RequestsPerSecond;
            var settled = Math.Abs(current - previous) <= 0.05 * Math.Max(current, previous);
            previous = current;
            if (settled)
            {
                break;
            }
        }
        return await Run(seconds);

        // Each run numbers its bodies afresh, so its ids carry a nonce of their own: the warm-up's entities
        // must not collide with the measured ones.
        Task<Measurement> Run(double duration)
        {
            var fresh = workload with { BodyTemplate = workload.BodyTemplate?.Replace("{n}", Guid.NewGuid().ToString("N")[..8] + "-{n}", StringComparison.Ordinal) };
            return options.Generator == "wrk"
                ? Wrk.RunAsync(url, fresh, connections, duration)
                : HttpLoad.RunAsync(url, fresh, connections, duration);
        }
    }

    private static void Print(TextWriter o, BenchOptions options, List<Row> rows, double loadRate, Memory memoryAfterLoad, Memory memoryAfterRun)
    {
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Agora benchmark: {options.Entities:N0} entities, {options.Seconds:0.#} s a path, {options.Connections} connections, generator {options.Generator}, {Environment.ProcessorCount} cores."));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Loaded through batch upserts of 1,000 at {loadRate:N0} entities/s."));
        o.WriteLine();
        o.WriteLine($"{"path",-36} {"gen",4} {"req/s",9} {"entities/s",11} {"p50 ms",7} {"p99 ms",7} {"ratio",6} {"errors",6}  target");
        foreach (var r in rows)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.M.Name,-36} {r.M.Generator,4} {r.M.RequestsPerSecond,9:N0} {(r.EntitiesPerSecond is { } e ? e.ToString("N0", CultureInfo.InvariantCulture) : ""),11} {r.M.P50Ms,7:F2} {r.M.P99Ms,7:F2} {(r.Ratio is { } x ? x.ToString("F2", CultureInfo.InvariantCulture) : ""),6} {r.M.Errors,6}  {r.Target}"));
        }
        o.WriteLine();
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Agora resident memory: {memoryAfterLoad.Resident:N0} MB after loading, {memoryAfterRun.Resident:N0} MB after the run; of which files mapped into memory (the database, read through mmap, and the runtime's libraries) {memoryAfterLoad.MappedFiles:N0} and {memoryAfterRun.MappedFiles:N0} MB, so {memoryAfterLoad.Resident - memoryAfterLoad.MappedFiles:N0} and {memoryAfterRun.Resident - memoryAfterRun.MappedFiles:N0} MB of the process's own (target < 300 MB at 100,000 entities)."));
    }

    private static string EntityPath(int i) =>
        $"/ngsi-ld/v1/entities/urn:ngsi-ld:{SyntheticCity.Types[i % SyntheticCity.Types.Length]}:{i:D7}";

    internal static async Task LoadAsync(string agoraUrl, SyntheticCity city, int count)
    {
        using var http = new HttpClient { BaseAddress = new Uri(agoraUrl), Timeout = TimeSpan.FromMinutes(2) };
        var next = 0;
        var gate = new Lock();
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
                    var (from, to) = (next, Math.Min(count, next + 1000));
                    next = to;
                    body = "[" + string.Join(",", Enumerable.Range(from, to - from).Select(city.Entity)) + "]";
                }
                using var response = await http.PostAsync("/ngsi-ld/v1/entityOperations/upsert", new StringContent(body, Encoding.UTF8, "application/json"));
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"Loading failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
        }
        await Task.WhenAll(Worker(), Worker());
    }

    private static Process Start(string arguments)
    {
        var process = Process.Start(new ProcessStartInfo("dotnet", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }

    private static string FindAgora()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Agora.slnx")))
            {
                var release = Path.Combine(dir.FullName, "src", "Agora", "bin", "Release", "net10.0", "Agora.dll");
                return File.Exists(release) ? release : throw new FileNotFoundException($"Agora is not built in Release at {release}; run dotnet build -c Release bench/Agora.Bench.");
            }
        }
        throw new InvalidOperationException("Run the benchmark from inside the Agora repository, or give --agora PATH/Agora.dll.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitUntilUpAsync(string url)
    {
        using var http = new HttpClient();
        for (var i = 0; i < 300; i++)
        {
            try
            {
                using var response = await http.GetAsync(url);
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
        throw new TimeoutException($"{url} did not answer within 30 s.");
    }

    // VmRSS counts the pages of mapped files: since SQLite's readers map the database, every page a read touched,
    // which the kernel's page cache holds and may reclaim as it did when reads copied them. RssFile tells them apart.
    private sealed record Memory(long Resident, long MappedFiles);

    private static Memory ResidentMegabytes(int pid)
    {
        long Field(string name) => File.ReadLines($"/proc/{pid}/status")
            .Where(line => line.StartsWith(name + ":", StringComparison.Ordinal))
            .Select(line => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024)
            .DefaultIfEmpty(-1).First();
        return new Memory(Field("VmRSS"), Field("RssFile"));
    }
}
