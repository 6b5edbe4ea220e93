using System.Data.Common;
using System.Text.Json.Nodes;
using Agora.Storage;
using Agora.Subscriptions;

namespace Agora.CsourceSubscriptions;

/// The csource_subscriptions table of a tenant store. Delivery status and pending notifications live with those of
/// entity subscriptions (subscription_status, outbox), so the one dispatcher serves both.
internal static class CsourceSubscriptionRows
{
    public const string Table = "csource_subscriptions";
    private static readonly DocumentRows Documents = new(Table);

    public static JsonObject? Find(DbConnection c, string id) => Documents.Find(c, id);

    public static List<JsonObject> All(DbConnection c) => Documents.All(c);

    public static (List<JsonObject> Page, long Total) Page(DbConnection c, int offset, int limit) =>
        (Documents.Page(c, offset, limit), Documents.Count(c));

    /// False when a subscription with this id exists already.
    public static bool Insert(DbConnection c, JsonObject doc, string now) => Documents.Insert(c, doc, now);

    /// False when the subscription no longer exists.
    public static bool Update(DbConnection c, JsonObject doc, string now) => Documents.Update(c, doc, now);

    public static bool Delete(DbConnection c, string id)
    {
        var deleted = Documents.Delete(c, id);
        SubscriptionRows.ForgetDelivery(c, id);
        return deleted;
    }
}
