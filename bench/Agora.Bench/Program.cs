using Agora.Bench;

// The Agora benchmark (see README, Performance). `ceiling --port N` is the child process that serves the
// ceiling; anything else is a benchmark run.
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
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine("Usage: Agora.Bench [--entities N] [--seconds S] [--connections C] [--generator wrk|http] [--json FILE] [--agora PATH/Agora.dll]");
    return 2;
}
