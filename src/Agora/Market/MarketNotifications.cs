using System.Text.Json.Nodes;
using Agora.Entities;
using Agora.Notifications;
using Agora.Security;
using Agora.Storage;
using Agora.Subscriptions;
using OutboxRow = Agora.Notifications.OutboxRow;

namespace Agora.Market;

/// Governs the notifications of subscriptions made with an agreement's key: while the agreement is not active
/// they are withheld (neither sent nor counted); when it is, each first attempt counts toward notificationsPerDay,
/// and one over the quota is withheld and counted as dropped. The notifications of a consumer organisation's
/// subscription are cut, when they are sent, to what the consumer's agreements active at that moment cover:
/// each entity keeps the attributes of the agreements that cover it (type, id pattern, area) and an entity none
/// covers is left out; the notification counts toward the quota of each agreement that contributed, one whose
/// quota is spent contributes nothing, and a notification left empty is withheld. Each withheld notification is
/// audited.
internal sealed class MarketNotifications(MarketStore store, AuditLog audit, TimeProvider time, TenantStores stores, SubscriptionEngine subscriptions)
{
    // Members of an entity (or a GeoJSON feature) that are not attributes, kept whatever the agreements cover.
    private static readonly HashSet<string> Kept = ["id", "type", "@context", "scope", "createdAt", "modifiedAt", "deletedAt", "geometry", "properties"];

    public string? Veto(string tenant, ref OutboxRow row)
    {
        var now = time.GetUtcNow();
        string? decision = null, reason = null;
        if (store.AgreementOfSubscription(tenant, row.SubscriptionId) is { } id)
        {
            var agreement = store.Agreement(id) is { } doc ? Agreement.Of(doc, now) : null;
            (decision, reason) = agreement is null ? (AuditLog.Denied, $"agreement {id} does not exist")
                : agreement.State != Agreement.Active ? (AuditLog.Denied, $"agreement {id} is {agreement.State}")
                : row.Attempts == 0 && !store.TryCountNotification(id, MarketStore.Day(now), agreement.NotificationsPerDay)
                    ? (AuditLog.Throttled, $"agreement {id}: quota of {agreement.NotificationsPerDay} notifications a day spent")
                : ((string?)null, (string?)null);
        }
        else if (store.ConsumerOfSubscription(tenant, row.SubscriptionId) is { } consumer)
        {
            (decision, reason) = Narrow(tenant, consumer, ref row, now);
        }
        if (reason is null)
        {
            return null;
        }
        reason = $"notification {row.Nid} of subscription {row.SubscriptionId} withheld: {reason}";
        _ = audit.WriteAsync(new AuditEntry(now, tenant, null, "notify " + row.SubscriptionId, decision!, reason, null));
        return reason;
    }

    private (string? Decision, string? Reason) Narrow(string tenant, string consumer, ref OutboxRow row, DateTimeOffset now)
    {
        var agreements = store.ActiveAgreements(tenant, consumer).Select(d => Agreement.Of(d, now)).Where(a => a.State == Agreement.Active).ToList();
        if (agreements.Count == 0)
        {
            return (AuditLog.Denied, $"the consumer '{consumer}' has no active agreement");
        }
        if (!subscriptions.Of(tenant).TryGetValue(row.SubscriptionId, out var subscription)
            || JsonNode.Parse(row.Body) is not JsonObject body || body["data"] is not JsonArray data)
        {
            return (AuditLog.Denied, "the notification cannot be checked against the consumer's agreements");
        }
        var entities = stores.Existing(tenant).Read(c => data.OfType<JsonObject>()
            .Select(e => (string?)e["id"] is { } id ? EntityRows.Find(c, id) : null).ToList());
        var contributors = Contributors(agreements, subscription, data, entities, now);
        if (row.Attempts == 0)
        {
            // The notification counts toward each contributing agreement; one whose quota is spent drops out.
            var day = MarketStore.Day(now);
            var spent = contributors.Where(a => !store.TryCountNotification(a.Id, day, a.NotificationsPerDay)).ToList();
            if (spent.Count > 0)
            {
                agreements = [.. agreements.Except(spent)];
                contributors = Contributors(agreements, subscription, data, entities, now);
                if (contributors.Count == 0)
                {
                    return (AuditLog.Throttled, $"the consumer '{consumer}': notification quotas spent ({string.Join(", ", spent.Select(a => a.Id))})");
                }
            }
        }
        if (contributors.Count == 0)
        {
            return (AuditLog.Denied, $"no active agreement of the consumer '{consumer}' covers its entities");
        }
        var kept = new JsonArray();
        for (var i = 0; i < data.Count; i++)
        {
            if (data[i] is JsonObject entity && Cut(agreements, subscription, entity, entities[i], now))
            {
                kept.Add(entity.DeepClone());
            }
        }
        body["data"] = kept;
        row = row with { Body = body.ToJsonString() };
        return (null, null);
    }

    // The agreements that cover at least one attribute of one entity of the notification.
    private static List<Agreement> Contributors(List<Agreement> agreements, Subscription subscription, JsonArray data, List<JsonObject?> entities, DateTimeOffset now) =>
        [.. agreements.Where(a => data.Select((e, i) => (e, i)).Any(p => p.e is JsonObject entity && Cut([a], subscription, (JsonObject)entity.DeepClone(), entities[p.i], now)))];

    /// Cuts a notified entity to the attributes the agreements that cover it show; false when none covers it or
    /// it keeps no attribute.
    private static bool Cut(List<Agreement> agreements, Subscription subscription, JsonObject entity, JsonObject? stored, DateTimeOffset now)
    {
        if (stored is null)
        {
            return false;
        }
        var id = (string)stored["id"]!;
        var types = stored["type"]!.AsArray().Select(t => (string)t!).ToList();
        var covering = agreements.Where(a => new Narrowing(a.Scope, subscription.Context, now).Outside(types, id, stored) is null).ToList();
        if (covering.Count == 0)
        {
            return false;
        }
        var all = covering.Any(a => a.Scope.Attributes is null);
        var allowed = covering.SelectMany(a => a.Scope.Attributes ?? Enumerable.Empty<string>()).ToHashSet(StringComparer.Ordinal);
        var members = entity["properties"] as JsonObject ?? entity;
        var attributes = 0;
        foreach (var name in members.Select(p => p.Key).Where(k => !Kept.Contains(k)).ToList())
        {
            if (all || allowed.Contains(subscription.Context.ExpandTerm(name)))
            {
                attributes++;
            }
            else
            {
                members.Remove(name);
            }
        }
        return attributes > 0;
    }
}
