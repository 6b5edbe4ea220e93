namespace Agora.Bench;

/// The Agora benchmark (see README, Performance). `ceiling --port N` is the child process that serves the
/// ceiling; anything else is a benchmark run. (An explicit Main, not top-level statements: the tests see
/// this assembly and Agora's, and two global Program classes would collide.)
internal static class BenchProgram
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["ceiling", "--port", var port])
        {
            await Ceiling.RunAsync(int.Parse(port, System.Globalization.CultureInfo.InvariantCulture));
            return 0;
        }
        try
        {
            return await BenchRun.RunAsync(BenchOptions.Parse(args), Console.Out);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            await Console.Error.WriteLineAsync("Usage: Agora.Bench [--entities N] [--seconds S] [--connections C] [--generator wrk|http] [--json FILE] [--agora PATH/Agora.dll]");
            return 2;
        }
    }
}
