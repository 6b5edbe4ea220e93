using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Agora.Tests.Notifications;

/// A notification receiver on 127.0.0.1 and a random port, as a subscriber's server would be. It records what
/// arrives and answers as the test tells it (given the 1-based number of the request).
internal sealed class NotificationReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<ReceivedNotification> _arrivals = Channel.CreateUnbounded<ReceivedNotification>();
    private int _requests;

    private NotificationReceiver(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";

    public ConcurrentQueue<ReceivedNotification> Received { get; } = new();

    public static async Task<NotificationReceiver> StartAsync(Func<int, CancellationToken, Task<int>>? respond = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new NotificationReceiver(app);
        app.Run(async http =>
        {
            var n = Interlocked.Increment(ref receiver._requests);
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            var headers = http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            var notification = new ReceivedNotification(n, http.Request.Method, body, headers, DateTimeOffset.UtcNow);
            receiver.Received.Enqueue(notification);
            receiver._arrivals.Writer.TryWrite(notification);
            http.Response.StatusCode = respond is null ? 204 : await respond(n, http.RequestAborted);
        });
        await app.StartAsync();
        receiver.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/notify";
        return receiver;
    }

    /// The next request to arrive, failing the test if none does in time.
    public async Task<ReceivedNotification> NextAsync(TimeSpan timeout)
    {
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            return await _arrivals.Reader.ReadAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No notification arrived at {Url} within {timeout.TotalSeconds} s ({Received.Count} so far).");
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var quickly = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(quickly.Token);
        await _app.DisposeAsync();
    }
}

internal sealed record ReceivedNotification(int Number, string Method, string Body, IReadOnlyDictionary<string, string> Headers, DateTimeOffset At);
