using Agora.Storage;
using Microsoft.Extensions.Options;

namespace Agora.Notifications;

/// Delivers what the subscription side writes to each tenant's outbox, over HTTP(S) or MQTT, with retries.
/// Started after the tenant stores, so every store found on disk is drained from the start, including what a
/// killed process left pending: delivery is at least once.
internal sealed class NotificationDispatcher(
    TenantStores stores, HttpNotifier http, MqttNotifier mqtt, IOptions<NotificationOptions> options, IEnumerable<DeliveryVeto> vetoes,
    ILogger<NotificationDispatcher> logger)
    : IHostedService
{
    private readonly DeliveryVeto[] _vetoes = [.. vetoes];

    private readonly NotificationOptions _options = options.Value;
    private readonly Dictionary<TenantStore, TenantOutbox> _outboxes = [];
    private readonly CancellationTokenSource _stopping = new();

    /// This node's name among those sharing the database, and the lease of its deliveries (null on SQLite,
    /// where this node is the only one).
    public string Node => stores.Node;

    /// A lease outlasts the longest delivery attempt, so that it cannot run out while its holder is sending.
    public TimeSpan? Lease => stores.Shared ? (_options.Lease > _options.Timeout ? _options.Lease : _options.Timeout + TimeSpan.FromSeconds(1)) : null;

    /// Deliveries in flight across all tenants.
    public SemaphoreSlim Slots { get; } = new(options.Value.MaxConcurrency, options.Value.MaxConcurrency);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        stores.Opened += Attach;
        foreach (var store in stores.Open)
        {
            Attach(store);
        }
        return Task.CompletedTask;
    }

    private void Attach(TenantStore store)
    {
        // A store can be reported both by Opened and by Open while the dispatcher starts; it gets one outbox.
        lock (_outboxes)
        {
            if (!_stopping.IsCancellationRequested && !_outboxes.ContainsKey(store))
            {
                _outboxes.Add(store, new TenantOutbox(store, this, logger, _stopping.Token));
            }
        }
    }

    /// One attempt to deliver a notification; never throws but for stopping.
    public async Task<DeliveryResult> SendAsync(string tenant, OutboxRow row, CancellationToken stopping)
    {
        foreach (var veto in _vetoes)
        {
            if (veto(tenant, ref row) is { } reason)
            {
                logger.LogDebug("Notification {Nid} of subscription {Subscription} is withheld: {Reason}", row.Nid, row.SubscriptionId, reason);
                return new DeliveryResult(row, null, DateTimeOffset.UtcNow, 0) { Withheld = true };
            }
        }
        string? failure;
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        attempt.CancelAfter(_options.Timeout);
        var endpoint = NotificationEndpoint.Parse(row.Endpoint);
        try
        {
            failure = endpoint?.Uri.Scheme switch
            {
                null => $"The endpoint {row.Endpoint} is not understood.",
                "http" or "https" => await http.SendAsync(tenant, row, endpoint, attempt.Token),
                "mqtt" or "mqtts" => await mqtt.SendAsync(tenant, row, endpoint, attempt.Token),
                var scheme => $"Notifications over {scheme} are not supported.",
            };
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            failure = $"No answer within {_options.Timeout.TotalSeconds:0.###} s.";
        }
        catch (Exception e)
        {
            failure = e.GetBaseException().Message;
        }

        var at = DateTimeOffset.UtcNow;
        if (failure is not null)
        {
            var target = endpoint is null ? "an unreadable endpoint" : MqttNotifier.Redacted(endpoint.Uri);
            if (row.Attempts == 0)
            {
                logger.LogWarning("Notification {Nid} of subscription {Subscription} to {Endpoint} failed and will be retried: {Reason}", row.Nid, row.SubscriptionId, target, failure);
            }
            else
            {
                logger.LogDebug("Notification {Nid} of subscription {Subscription} to {Endpoint} failed again (attempt {Attempt}): {Reason}", row.Nid, row.SubscriptionId, target, row.Attempts + 1, failure);
            }
        }
        return new DeliveryResult(row, failure, at, OutboxRows.UnixSeconds(at) + Backoff(row.Attempts + 1).TotalSeconds);
    }

    // Doubling from MinBackoff up to MaxBackoff, spread by up to a tenth either way so that the notifications of
    // many subscriptions to one recovering endpoint do not all come back in the same instant.
    internal TimeSpan Backoff(int attempts)
    {
        var exponent = Math.Min(attempts - 1, 30);
        var wait = Math.Min(_options.MinBackoff.TotalSeconds * Math.Pow(2, exponent), _options.MaxBackoff.TotalSeconds);
        return TimeSpan.FromSeconds(wait * (0.9 + (Random.Shared.NextDouble() * 0.2)));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        stores.Opened -= Attach;
        await _stopping.CancelAsync();
        Task[] stopped;
        lock (_outboxes)
        {
            stopped = [.. _outboxes.Values.Select(o => o.Stopped)];
        }
        await Task.WhenAll(stopped).WaitAsync(cancellationToken);
        await mqtt.DisposeAsync();
    }
}
