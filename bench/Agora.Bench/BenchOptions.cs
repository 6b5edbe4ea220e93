using System.Globalization;

namespace Agora.Bench;

/// The benchmark's settings: `--entities N` (default 100,000), `--seconds S` per path (5), `--connections C`
/// (32), `--generator wrk|http` (wrk when installed), `--json FILE`, `--agora PATH/Agora.dll` (found in the
/// repository's build output by default), `--instances N` in the history of the temporal path (1,000,000),
/// `--postgres CONNECTION` to measure the PostgreSQL provider on that database instead of SQLite, `--warmup N`
/// the most unmeasured windows before each path (10; the test suite's tiny run takes 2).
internal sealed record BenchOptions(int Entities, double Seconds, int Connections, string Generator, string? Json, string? Agora, int Instances = 1_000_000, string? Postgres = null, int WarmupWindows = 10)
{
    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions(100_000, 5, 32, Wrk.Available ? "wrk" : "http", null, null);
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            options = args[i] switch
            {
                "--entities" => options with { Entities = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--seconds" => options with { Seconds = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--connections" => options with { Connections = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--generator" => options with { Generator = GeneratorName(Next()) },
                "--json" => options with { Json = Next() },
                "--agora" => options with { Agora = Next() },
                "--instances" => options with { Instances = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--postgres" => options with { Postgres = Next() },
                "--warmup" => options with { WarmupWindows = Math.Max(1, int.Parse(Next(), CultureInfo.InvariantCulture)) },
                var other => throw new ArgumentException($"Unknown option {other}."),
            };
        }
        if (options.Generator == "wrk" && !Wrk.Available)
        {
            throw new ArgumentException("wrk is not installed (apt-get install wrk); use --generator http.");
        }
        return options;
    }

    private static string GeneratorName(string name) =>
        name is "wrk" or "http" ? name : throw new ArgumentException("--generator is wrk or http.");
}
