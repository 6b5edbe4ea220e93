namespace Agora.Hosting;

/// The `agora` verbs. Options are handed to the ordinary configuration system, so `--port 1030` on the
/// command line, `AGORA__PORT=1030` in the environment and `"Agora": {"Port": 1030}` in appsettings.json
/// are the same setting.
internal static class AgoraCommandLine
{
    private static readonly Dictionary<string, string> Switches = new(StringComparer.Ordinal)
    {
        ["--port"] = "Agora:Port",
        ["--data"] = "Agora:Data",
        ["--host"] = "Agora:Host",
    };

    public const string Usage = """
        Usage: agora serve [--port N] [--data PATH] [--host ADDRESS]
               agora admin create-key --tenant NAME --role admin|provider|consumer [--expires 90d] [--data PATH]

          serve      run the NGSI-LD broker (default verb)
          --port     TCP port to listen on (default 1026; env AGORA__PORT)
          --data     folder of the embedded SQLite store (default ./data; env AGORA__DATA)
          --host     address to listen on (default 127.0.0.1; loopback only until security is configured)

          admin create-key   create an API key (the first admin key of a tenant, typically) and print it once
          --tenant   the tenant it is for ("" or omitted: the default tenant)
          --role     admin, provider or consumer
          --expires  how long it is valid: 90d (default), 12h, 30m
          --types    for a provider: entity types it may write, comma-separated
        """;

    private static readonly string[] Verbs = ["serve", "admin"];

    /// The verb (serve, admin) and the rest of the arguments, with the switches above mapped to configuration keys.
    public static bool TryParse(string[] args, out string verb, out string[] hostArgs)
    {
        var rest = args.Length > 0 && !args[0].StartsWith('-') ? args[1..] : args;
        verb = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "serve";
        hostArgs = [];
        if (verb is "help" or "--help" or "-h" || rest.Contains("--help"))
        {
            Console.WriteLine(Usage);
            return false;
        }
        if (!Verbs.Contains(verb))
        {
            Console.Error.WriteLine($"agora: unknown verb '{verb}'.");
            Console.Error.WriteLine(Usage);
            return false;
        }
        var mapped = new List<string>(rest.Length);
        foreach (var arg in rest)
        {
            var eq = arg.IndexOf('=');
            var name = eq > 0 ? arg[..eq] : arg;
            mapped.Add(Switches.TryGetValue(name, out var key) ? "--" + key + (eq > 0 ? arg[eq..] : "") : arg);
        }
        hostArgs = [.. mapped];
        return true;
    }
}
