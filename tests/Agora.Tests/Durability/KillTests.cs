using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace Agora.Tests.Durability;

/// A real Agora process, killed with SIGKILL in the middle of a write storm, loses no acknowledged write.
public sealed class KillTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "agora-kill-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task EveryAcknowledgedCreateSurvivesAKill()
    {
        var acknowledged = new ConcurrentBag<string>();
        using (var agora = AgoraProcess.Start(_data, output))
        {
            await agora.WaitUntilAnsweringAsync();
            using var client = new HttpClient { BaseAddress = agora.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
            using var stop = new CancellationTokenSource();
            var workers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
            {
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var id = $"urn:ngsi-ld:Building:{w}-{n}";
                    try
                    {
                        using var content = new StringContent($$"""{"id": "{{id}}", "type": "Building", "n": {{n}}}""", Encoding.UTF8, "application/json");
                        using var response = await client.PostAsync("/ngsi-ld/v1/entities", content);
                        if (response.StatusCode == HttpStatusCode.Created)
                        {
                            acknowledged.Add(id);
                        }
                    }
                    catch (HttpRequestException)
                    {
                        return; // the server is gone
                    }
                    catch (TaskCanceledException)
                    {
                        return;
                    }
                }
            })).ToArray();

            await Task.Delay(TimeSpan.FromSeconds(2));
            agora.Kill();
            stop.Cancel();
            await Task.WhenAll(workers);
        }
        output.WriteLine($"{acknowledged.Count} creates were acknowledged before the kill.");
        Assert.True(acknowledged.Count >= 100, $"Only {acknowledged.Count} creates were acknowledged; the test proves little.");

        using var restarted = AgoraProcess.Start(_data, output);
        await restarted.WaitUntilAnsweringAsync();
        using var reader = new HttpClient { BaseAddress = restarted.BaseAddress };
        var lost = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(acknowledged, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, ct) =>
        {
            using var response = await reader.GetAsync($"/ngsi-ld/v1/entities/{Uri.EscapeDataString(id)}", ct);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                lost.Add($"{id}: {(int)response.StatusCode}");
            }
        });
        Assert.True(lost.IsEmpty, $"{lost.Count} acknowledged creates were lost, e.g. {string.Join(", ", lost.Take(5))}");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// `dotnet Agora.dll serve` on a free port, killed (with its whole tree) on dispose whatever happened.
    private sealed class AgoraProcess : IDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _log = new();

        public Uri BaseAddress { get; }

        private AgoraProcess(Process process, int port)
        {
            _process = process;
            BaseAddress = new Uri($"http://127.0.0.1:{port}");
        }

        public static AgoraProcess Start(string data, ITestOutputHelper output)
        {
            var port = FreePort();
            // The project reference copies the server next to the test assembly.
            var dll = Path.Combine(AppContext.BaseDirectory, "Agora.dll");
            Assert.True(File.Exists(dll), $"{dll} is missing; build the solution first.");
            var start = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { dll, "serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--data", data },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.Environment["ASPNETCORE_URLS"] = "";
            start.Environment["DOTNET_ENVIRONMENT"] = "Production";
            var process = new Process { StartInfo = start };
            var agora = new AgoraProcess(process, port);
            process.OutputDataReceived += (_, e) => agora.Record(e.Data);
            process.ErrorDataReceived += (_, e) => agora.Record(e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            output.WriteLine($"Started Agora (pid {process.Id}) on port {port}.");
            return agora;
        }

        private void Record(string? line)
        {
            if (line is not null)
            {
                _log.Enqueue(line);
            }
        }

        public async Task WaitUntilAnsweringAsync()
        {
            using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                if (_process.HasExited)
                {
                    Assert.Fail($"Agora exited with {_process.ExitCode}:\n{string.Join('\n', _log)}");
                }
                try
                {
                    using var response = await client.GetAsync("/ngsi-ld/v1/entities/urn:ngsi-ld:Probe:1");
                    return;
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException)
                {
                }
                await Task.Delay(100);
            }
            Assert.Fail($"Agora did not answer within 30 s:\n{string.Join('\n', _log)}");
        }

        /// SIGKILL on Linux: no shutdown hook runs, nothing is flushed but what the OS already has.
        public void Kill()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }

        public void Dispose()
        {
            try
            {
                Kill();
            }
            finally
            {
                _process.Dispose();
            }
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
