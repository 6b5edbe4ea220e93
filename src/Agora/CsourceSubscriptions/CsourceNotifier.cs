using System.Text.Json.Nodes;
using Agora.JsonLd;
using Agora.Registrations;
using Agora.Storage;
using Agora.Subscriptions;
using Microsoft.Data.Sqlite;

namespace Agora.CsourceSubscriptions;

/// Writes the notifications of context source registration subscriptions (clause 5.11.7) to the outbox, inside the
/// transaction of the write that causes them, so that the dispatcher delivers them as it does entity notifications.
/// Registrations and their subscriptions are few, so each registration write reads the subscriptions afresh.
internal sealed class CsourceNotifier(ContextResolver resolver, ILogger<CsourceNotifier> logger)
{
    public const string NewlyMatching = "newlyMatching";
    public const string Updated = "updated";
    public const string NoLongerMatching = "noLongerMatching";

    /// Resolves the contexts of the tenant's subscriptions before a registration write, so that its transaction
    /// finds them in memory instead of waiting on a fetch.
    public async Task PrepareAsync(SqliteTenantStore store, CancellationToken ct)
    {
        foreach (var doc in store.Read(CsourceSubscriptionRows.All))
        {
            foreach (var url in new[] { Subscription.ContextUrlOf(doc), (string?)doc[SubscriptionsApi.RequestContext] }.OfType<string>())
            {
                try
                {
                    await resolver.ResolveAsync(JsonValue.Create(url), ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "The @context {Url} of context source subscription {Id} is not available; its notifications use the core context.", url, (string?)doc["id"]);
                }
            }
        }
    }

    /// Notifies every live subscription the registration matched before the write or matches after it: newlyMatching,
    /// updated or noLongerMatching. before is null on creation, after on deletion.
    public void RegistrationChanged(SqliteConnection c, JsonObject? before, JsonObject? after, DateTimeOffset now)
    {
        foreach (var doc in CsourceSubscriptionRows.All(c))
        {
            var s = Load(doc);
            if (!s.LiveAt(now))
            {
                continue;
            }
            var selects = RegistrationQuery.Selecting(s);
            var reason = (before is not null && selects(before), after is not null && selects(after)) switch
            {
                (false, true) => NewlyMatching,
                (true, true) => Updated,
                (true, false) => NoLongerMatching,
                _ => null,
            };
            if (reason is not null)
            {
                SubscriptionRows.Enqueue(c, Row(s, [after ?? before!], reason, now));
            }
        }
    }

    /// On a subscription's creation or update, the registrations that match it already, if any (ETSI 047_02, 047_03).
    public static void Initial(SqliteConnection c, Subscription s, DateTimeOffset now)
    {
        if (!s.LiveAt(now))
        {
            return;
        }
        var matching = RegistrationRows.All(c).Where(RegistrationQuery.Selecting(s)).ToList();
        if (matching.Count > 0)
        {
            SubscriptionRows.Enqueue(c, Row(s, matching, NewlyMatching, now));
        }
    }

    /// A CsourceNotification (clause 5.3.2, type ContextSourceNotification as the ETSI suite checks): an entity
    /// notification's envelope around registrations, shown in the subscription's context, with the reason it was sent.
    private static OutboxRow Row(Subscription s, IEnumerable<JsonObject> registrations, string reason, DateTimeOffset now)
    {
        var data = registrations.Select(r => (JsonNode)RegistrationOutput.Render(r, null, s.Context, s.Representation.SysAttrs));
        var row = Subscriptions.Notifications.Row(s, data, now);
        row.Body["type"] = "ContextSourceNotification";
        row.Body["triggerReason"] = reason;
        return row;
    }

    // Inside a transaction nothing may wait on a fetch: a context not in memory (PrepareAsync could not resolve it)
    // leaves the core context to render with.
    private Subscription Load(JsonObject doc) =>
        Subscription.Of(doc, Resolved(Subscription.ContextUrlOf(doc)), Resolved((string?)doc[SubscriptionsApi.RequestContext]));

    private JsonLdContext Resolved(string? url)
    {
        if (url is null)
        {
            return JsonLdContext.Core;
        }
        var pending = resolver.ResolveAsync(JsonValue.Create(url), CancellationToken.None);
        return pending.IsCompletedSuccessfully ? pending.Result : JsonLdContext.Core;
    }
}
