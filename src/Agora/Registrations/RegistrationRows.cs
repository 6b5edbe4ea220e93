using System.Data.Common;
using System.Text.Json.Nodes;
using Agora.Storage;

namespace Agora.Registrations;

/// What distributed operations have recorded of their requests to a registration's context source.
internal sealed record SourceStatus(long TimesSent, long TimesFailed, string? LastSuccess, string? LastFailure);

/// The registrations and registration_status tables of a tenant store. Registrations are few (a city federates
/// with tens of sources, not millions), so a query reads them all and filters in memory.
internal static class RegistrationRows
{
    public const string Table = "registrations";
    private static readonly DocumentRows Documents = new(Table);

    public static JsonObject? Find(DbConnection c, string id) => Documents.Find(c, id);

    public static List<JsonObject> All(DbConnection c) => Documents.All(c);

    /// False when a registration with this id exists already.
    public static bool Insert(DbConnection c, JsonObject doc, string now) => Documents.Insert(c, doc, now);

    /// False when the registration no longer exists.
    public static bool Update(DbConnection c, JsonObject doc, string now) => Documents.Update(c, doc, now);

    /// Deletes a registration with its status; false when there was none.
    public static bool Delete(DbConnection c, string id)
    {
        using var status = Sql.Command(c, "DELETE FROM registration_status WHERE registration_id = @id", ("@id", id));
        status.ExecuteNonQuery();
        return Documents.Delete(c, id);
    }

    public static Dictionary<string, SourceStatus> Statuses(DbConnection c, IEnumerable<string> ids)
    {
        var result = new Dictionary<string, SourceStatus>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            using var command = Sql.Command(c, "SELECT times_sent, times_failed, last_success, last_failure FROM registration_status WHERE registration_id = @id", ("@id", id));
            using var reader = command.ExecuteReader();
            if (reader.Read())
            {
                result[id] = new SourceStatus(reader.GetInt64(0), reader.GetInt64(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3));
            }
        }
        return result;
    }
}
