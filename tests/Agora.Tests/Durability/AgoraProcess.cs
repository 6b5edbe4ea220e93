using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace Agora.Tests.Durability;

/// `dotnet Agora.dll serve` on a free port, killed (with its whole tree) on dispose whatever happened.
internal sealed class AgoraProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();

    public Uri BaseAddress { get; }

    /// The operating system's process id.
    public int Id => _process.Id;

    private AgoraProcess(Process process, int port)
    {
        _process = process;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public static AgoraProcess Start(string data, ITestOutputHelper output, params string[] settings)
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
        foreach (var setting in TestDatabase.Arguments(data).Concat(settings))
        {
            start.ArgumentList.Add(setting);
        }
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
