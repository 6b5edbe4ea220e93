using System.Text.Json.Nodes;
using Agora.Bench;

namespace Agora.Tests.Bench;

/// The benchmark runs whole, tiny, so that it never rots: both servers start, every path answers without
/// errors, and the JSON report has what the README's table needs.
public sealed class BenchSmokeTests
{
    [Fact]
    public async Task ATinyRunMeasuresEveryPathWithoutErrors()
    {
        var json = Path.Combine(Path.GetTempPath(), $"agora-bench-{Guid.NewGuid():N}.json");
        var agora = Path.Combine(AppContext.BaseDirectory, "Agora.dll");
        // Two seconds a path: on a loaded machine one batch of 1,000 can take longer than half a second.
        var options = new BenchOptions(Entities: 300, Seconds: 2, Connections: 4, Generator: Wrk.Available ? "wrk" : "http", Json: json, Agora: agora, Instances: 12_000, WarmupWindows: 2);
        using var output = new StringWriter();
        try
        {
            var exit = await BenchRun.RunAsync(options, output);

            Assert.True(exit == 0, output.ToString());
            var report = JsonNode.Parse(await File.ReadAllTextAsync(json))!;
            var paths = report["paths"]!.AsArray();
            var names = paths.Select(p => (string)p!["name"]!).ToHashSet();
            Assert.Superset(new HashSet<string> { "ceiling GET", "ceiling POST", "GET one entity", "create one entity", "partial attribute update", "batch upsert of 1,000", "query type + selective q, limit 20", "geo-query near 500 m, limit 20", "temporal hourly avg, 30 days",
                "GET one entity, admin key", "GET one entity, agreement", "GET one entity, union of 3",
                "type + q query, admin key", "type + q query, agreement", "type + q query, union of 3" }, names);
            Assert.All(paths, p => Assert.True((long)p!["requests"]! > 0, $"{p["name"]} made no request"));
            Assert.True((double)report["residentMegabytesAfterLoad"]! > 0);
        }
        finally
        {
            File.Delete(json);
        }
    }
}
