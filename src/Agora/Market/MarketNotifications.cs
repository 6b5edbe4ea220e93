using Agora.Notifications;
using Agora.Security;

namespace Agora.Market;

/// Governs the notifications of subscriptions made with an agreement's key: while the agreement is not active
/// they are withheld (neither sent nor counted); when it is, each first attempt counts toward notificationsPerDay,
/// and one over the quota is withheld and counted as dropped. Each withheld notification is audited.
internal sealed class MarketNotifications(MarketStore store, AuditLog audit, TimeProvider time)
{
    public string? Veto(string tenant, OutboxRow row)
    {
        if (store.AgreementOfSubscription(tenant, row.SubscriptionId) is not { } id)
        {
            return null;
        }
        var now = time.GetUtcNow();
        var agreement = store.Agreement(id) is { } doc ? Agreement.Of(doc, now) : null;
        var (decision, reason) = agreement is null ? (AuditLog.Denied, $"agreement {id} does not exist")
            : agreement.State != Agreement.Active ? (AuditLog.Denied, $"agreement {id} is {agreement.State}")
            : row.Attempts == 0 && !store.TryCountNotification(id, MarketStore.Day(now), agreement.NotificationsPerDay)
                ? (AuditLog.Throttled, $"agreement {id}: quota of {agreement.NotificationsPerDay} notifications a day spent")
            : ((string?)null, (string?)null);
        if (reason is null)
        {
            return null;
        }
        reason = $"notification {row.Nid} of subscription {row.SubscriptionId} withheld: {reason}";
        _ = audit.WriteAsync(new AuditEntry(now, tenant, null, "notify " + row.SubscriptionId, decision!, reason, null));
        return reason;
    }
}
