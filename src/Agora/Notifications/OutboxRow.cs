using System.Text.Json;

namespace Agora.Notifications;

/// One pending notification, as the subscription side wrote it to the outbox.
internal sealed record OutboxRow(long Nid, string SubscriptionId, string Endpoint, string ContentType, string? Link, string Body, int Attempts, double NextAttempt);

/// Where and how a notification goes: the subscription's notification.endpoint as stored with the row.
internal sealed record NotificationEndpoint(Uri Uri, IReadOnlyList<KeyValuePair<string, string>> ReceiverInfo, IReadOnlyList<KeyValuePair<string, string>> NotifierInfo)
{
    public string? Notifier(string key) =>
        NotifierInfo.FirstOrDefault(p => string.Equals(p.Key, key, StringComparison.OrdinalIgnoreCase)).Value;

    /// The endpoint of a row, or null when it cannot be understood (such a row can only fail).
    public static NotificationEndpoint? Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("uri", out var uri) || uri.ValueKind != JsonValueKind.String
                || !Uri.TryCreate(uri.GetString(), UriKind.Absolute, out var parsed))
            {
                return null;
            }
            return new NotificationEndpoint(parsed, Pairs(root, "receiverInfo"), Pairs(root, "notifierInfo"));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static List<KeyValuePair<string, string>> Pairs(JsonElement root, string name)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        if (root.TryGetProperty(name, out var array) && array.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in array.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Object
                    && item.TryGetProperty("key", out var key) && key.ValueKind == JsonValueKind.String
                    && item.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.String)
                {
                    pairs.Add(new(key.GetString()!, value.GetString()!));
                }
            }
        }
        return pairs;
    }
}
