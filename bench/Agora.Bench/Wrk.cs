using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Agora.Bench;

/// Drives a workload with wrk (Debian's package): a C load generator far lighter than any .NET client, so
/// that the server, not the generator, is what is measured. The Lua script cycles through the paths and
/// makes unique bodies; its done() hook prints exact percentiles.
internal static class Wrk
{
    public static bool Available => File.Exists("/usr/bin/wrk") || File.Exists("/usr/local/bin/wrk");

    public static async Task<Measurement> RunAsync(string baseUrl, Workload workload, int connections, double seconds)
    {
        var script = Path.Combine(Path.GetTempPath(), $"agora-bench-{Guid.NewGuid():N}.lua");
        await File.WriteAllTextAsync(script, Script(workload));
        try
        {
            var threads = Math.Min(2, connections);
            var start = new ProcessStartInfo("wrk",
                // wrk takes whole seconds only.
                string.Create(CultureInfo.InvariantCulture, $"-t{threads} -c{connections} -d{Math.Max(1, (int)Math.Round(seconds))}s --timeout 10s -s {script} {baseUrl}"))
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var wrk = Process.Start(start)!;
            var output = await wrk.StandardOutput.ReadToEndAsync();
            await wrk.WaitForExitAsync();
            var result = output.Split('\n').FirstOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal))
                ?? throw new InvalidOperationException($"wrk printed no result: {output} {await wrk.StandardError.ReadToEndAsync()}");
            var f = result.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            var (requests, durationUs, p50Us, p99Us, errors) = ((long)f[0], f[1], f[2], f[3], (long)f[4]);
            return new Measurement(workload.Name, "wrk", connections, requests / (durationUs / 1e6), p50Us / 1000, p99Us / 1000, requests, errors);
        }
        finally
        {
            File.Delete(script);
        }
    }

    private static string Script(Workload w)
    {
        var b = new StringBuilder();
        b.AppendLine("local paths = {");
        foreach (var p in w.Paths)
        {
            b.Append("  [==[").Append(p).AppendLine("]==],");
        }
        b.AppendLine("}");
        b.Append("local method = \"").Append(w.Method).AppendLine("\"");
        b.AppendLine(w.BodyTemplate is null ? "local template = nil" : $"local template = [==[{w.BodyTemplate}]==]");
        b.Append("local rep = ").Append(w.BodyRepeat.ToString(CultureInfo.InvariantCulture)).AppendLine();
        b.AppendLine(w.ApiKey is null ? "local headers = {}" : $"local headers = {{[\"X-Api-Key\"] = [==[{w.ApiKey}]==]}}");
        b.AppendLine("""
            local threads = 0
            function setup(thread)
              threads = threads + 1
              thread:set("tid", threads)
            end
            local i = 0
            local counter = 0
            function request()
              i = i + 1
              local path = paths[(i % #paths) + 1]
              if template == nil then
                return wrk.format(method, path, headers)
              end
              local parts = {}
              for k = 1, rep do
                counter = counter + 1
                parts[k] = (string.gsub(template, "{n}", tid .. "-" .. counter))
              end
              local body = parts[1]
              if rep > 1 then body = "[" .. table.concat(parts, ",") .. "]" end
              headers["Content-Type"] = "application/json"
              return wrk.format(method, path, headers, body)
            end
            function done(summary, latency, requests)
              local e = summary.errors
              io.write(string.format("RESULT %d %d %d %d %d\n", summary.requests, summary.duration,
                latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
            end
            """);
        return b.ToString();
    }
}
