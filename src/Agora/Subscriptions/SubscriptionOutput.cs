using System.Globalization;
using System.Text.Json.Nodes;
using Agora.JsonLd;
using Agora.Query;

namespace Agora.Subscriptions;

/// A stored subscription as a client reads it: names compacted with the request's @context, and the members the
/// broker maintains (status, notificationTrigger's default, the notification status from delivery).
internal static class SubscriptionOutput
{
    public static JsonObject Render(JsonObject doc, DeliveryStatus? delivery, JsonLdContext context, bool sysAttrs, DateTimeOffset now)
    {
        var result = new JsonObject();
        foreach (var (name, value) in doc)
        {
            switch (name)
            {
                case SubscriptionsApi.RequestContext:
                    break;
                case SubscriptionsApi.DefaultContext:
                    // jsonldContext shows what the client set; when it set none but the subscription was made in
                    // a context Agora itself created (an inline or multi-part @context, ImplicitlyCreated), that
                    // context's URL is shown too, since the client has no other way to learn it (ETSI 052_06).
                    if (!doc.ContainsKey("jsonldContext") && value is JsonValue v && v.TryGetValue<string>(out var url)
                        && url.Contains(ContextUrls.BasePath, StringComparison.Ordinal))
                    {
                        result["jsonldContext"] = url;
                    }
                    break;
                case "createdAt" or "modifiedAt":
                    if (sysAttrs)
                    {
                        result[name] = value?.DeepClone();
                    }
                    break;
                case "entities":
                    result[name] = new JsonArray([.. value!.AsArray().Select(e => (JsonNode?)Selector(e!.AsObject(), context))]);
                    break;
                case "watchedAttributes":
                    result[name] = Compact(value!.AsArray(), context);
                    break;
                case "geoQ":
                    var geo = (JsonObject)value!.DeepClone();
                    geo["geoproperty"] = context.CompactIri((string)geo["geoproperty"]!);
                    result[name] = geo;
                    break;
                case "notification":
                    result[name] = Notification(value!.AsObject(), delivery, context);
                    break;
                default:
                    result[name] = value?.DeepClone();
                    break;
            }
        }
        result["notificationTrigger"] ??= new JsonArray([.. SubscriptionInput.DefaultTriggers.Select(t => (JsonNode?)t)]);
        var expired = doc["expiresAt"] is { } e && DateTimeOffset.Parse((string)e!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) <= now;
        var active = doc["isActive"] is not JsonValue a || a.GetValue<bool>();
        result["status"] = expired ? "expired" : active ? "active" : "paused";
        return result;
    }

    private static JsonObject Selector(JsonObject stored, JsonLdContext context)
    {
        var selector = (JsonObject)stored.DeepClone();
        selector["type"] = TypeSelections.Map(TypeSelection.Parse((string)stored["type"]!).Root, context.CompactIri);
        return selector;
    }

    private static JsonObject Notification(JsonObject stored, DeliveryStatus? delivery, JsonLdContext context)
    {
        var notification = new JsonObject();
        foreach (var (name, value) in stored)
        {
            notification[name] = name switch
            {
                "attributes" => Compact(value!.AsArray(), context),
                "pick" or "omit" => new JsonArray([.. value!.AsArray().Select(n => (JsonNode?)((string)n! is "id" or "type" or "scope" ? (string)n! : context.CompactIri((string)n!)))]),
                "status" or "timesSent" or "timesFailed" or "lastNotification" or "lastSuccess" or "lastFailure" => null,
                _ => value?.DeepClone(),
            };
        }
        foreach (var name in new[] { "status", "timesSent", "timesFailed", "lastNotification", "lastSuccess", "lastFailure" })
        {
            notification.Remove(name);
        }
        if (delivery is not null)
        {
            if (delivery.TimesSent > 0)
            {
                notification["timesSent"] = delivery.TimesSent;
            }
            if (delivery.TimesFailed > 0)
            {
                notification["timesFailed"] = delivery.TimesFailed;
            }
            if (delivery.LastNotification is { } last)
            {
                notification["lastNotification"] = last;
                // ok while the latest attempt succeeded, failed once it did not (clause 5.2.14).
                notification["status"] = delivery.LastFailure is { } failure && string.CompareOrdinal(failure, delivery.LastSuccess ?? "") > 0 ? "failed" : "ok";
            }
            if (delivery.LastSuccess is { } success)
            {
                notification["lastSuccess"] = success;
            }
            if (delivery.LastFailure is { } lastFailure)
            {
                notification["lastFailure"] = lastFailure;
            }
        }
        return notification;
    }

    private static JsonArray Compact(JsonArray names, JsonLdContext context) =>
        new([.. names.Select(n => (JsonNode?)context.CompactIri((string)n!))]);
}
