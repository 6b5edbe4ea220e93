namespace Agora.Bench;

/// The Agora benchmark (see README, Performance). `ceiling --port N` is the child process that serves the
/// ceiling; `load --url URL --entities N` loads the benchmark's city into an Agora already running; anything
/// else is a benchmark run. (An explicit Main, not top-level statements: the tests see this assembly and
/// Agora's, and two global Program classes would collide.)
internal static class BenchProgram
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["ceiling", "--port", var port])
        {
            await Ceiling.RunAsync(int.Parse(port, System.Globalization.CultureInfo.InvariantCulture));
            return 0;
        }
        // Loads the synthetic city into an Agora that is already running (to profile a path on a store kept between runs).
        if (args is ["load", "--url", var url, "--entities", var entities])
        {
            await BenchRun.LoadAsync(url, new SyntheticCity(seed: 42), int.Parse(entities, System.Globalization.CultureInfo.InvariantCulture));
            return 0;
        }
        try
        {
            return await BenchRun.RunAsync(BenchOptions.Parse(args), Console.Out);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            await Console.Error.WriteLineAsync("Usage: Agora.Bench [--entities N] [--seconds S] [--connections C] [--generator wrk|http] [--json FILE] [--agora PATH/Agora.dll] [--instances N] [--postgres CONNECTION] [--warmup N], or load --url URL --entities N");
            return 2;
        }
    }
}
