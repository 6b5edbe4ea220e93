using System.Data.Common;

namespace Agora.Storage;

/// The SQL behind type and attribute discovery (clause 5.7.5–5.7.8): read from the type and attribute
/// tables, never from the entity documents.
internal static class DiscoveryRows
{
    public static List<string> Types(DbConnection c) =>
        Strings(c, "SELECT DISTINCT type FROM entity_types ORDER BY type");

    public static List<string> Attributes(DbConnection c) =>
        Strings(c, "SELECT DISTINCT attr FROM entity_attrs ORDER BY attr");

    /// Attribute names per type, in the order first seen.
    public static List<(string Type, string Attribute)> AttributesOfTypes(DbConnection c) =>
        Pairs(c, """
            SELECT t.type, a.attr FROM entity_types t JOIN entity_attrs a ON a.rid = t.rid
            GROUP BY t.type, a.attr ORDER BY t.type, MIN(a.rid), a.attr
            """);

    public static List<(string Attribute, string Type)> TypesOfAttributes(DbConnection c) =>
        Pairs(c, "SELECT a.attr, t.type FROM entity_attrs a JOIN entity_types t ON a.rid = t.rid GROUP BY a.attr, t.type ORDER BY a.attr, t.type");

    public static long EntityCount(DbConnection c, string type) =>
        Count(c, "SELECT COUNT(*) FROM entity_types WHERE type = @p", type);

    public static List<(string Attribute, string AttributeType)> AttributeDetails(DbConnection c, string type) =>
        Pairs(c, """
            SELECT a.attr, a.attr_type FROM entity_types t JOIN entity_attrs a ON a.rid = t.rid
            WHERE t.type = @p GROUP BY a.attr, a.attr_type ORDER BY MIN(a.rid), a.attr
            """, type);

    public static long AttributeCount(DbConnection c, string attr) =>
        Count(c, "SELECT COUNT(*) FROM entity_attrs WHERE attr = @p", attr);

    public static List<string> AttributeTypes(DbConnection c, string attr) =>
        Strings(c, "SELECT DISTINCT attr_type FROM entity_attrs WHERE attr = @p ORDER BY attr_type", attr);

    public static List<string> TypesHaving(DbConnection c, string attr) =>
        Strings(c, "SELECT DISTINCT t.type FROM entity_attrs a JOIN entity_types t ON a.rid = t.rid WHERE a.attr = @p ORDER BY t.type", attr);

    /// The entities of these types, for discovery that sees only some entities of each (a market agreement's area).
    public static List<System.Text.Json.Nodes.JsonObject> EntitiesOfTypes(DbConnection c, IEnumerable<string> types)
    {
        using var command = c.CreateCommand();
        var names = types.Select((type, i) =>
        {
            command.Parameters.AddWithValue("@t" + i, type);
            return "@t" + i;
        }).ToList();
        if (names.Count == 0)
        {
            return [];
        }
        command.CommandText = $"SELECT e.doc FROM entities e WHERE e.rid IN (SELECT rid FROM entity_types WHERE type IN ({string.Join(',', names)}))";
        using var reader = command.ExecuteReader();
        var docs = new List<System.Text.Json.Nodes.JsonObject>();
        while (reader.Read())
        {
            docs.Add(System.Text.Json.Nodes.JsonNode.Parse(reader.GetString(0))!.AsObject());
        }
        return docs;
    }

    private static List<string> Strings(DbConnection c, string sql, string? p = null)
    {
        using var command = Command(c, sql, p);
        using var reader = command.ExecuteReader();
        var list = new List<string>();
        while (reader.Read())
        {
            list.Add(reader.GetString(0));
        }
        return list;
    }

    private static List<(string, string)> Pairs(DbConnection c, string sql, string? p = null)
    {
        using var command = Command(c, sql, p);
        using var reader = command.ExecuteReader();
        var list = new List<(string, string)>();
        while (reader.Read())
        {
            list.Add((reader.GetString(0), reader.GetString(1)));
        }
        return list;
    }

    private static long Count(DbConnection c, string sql, string p)
    {
        using var command = Command(c, sql, p);
        return (long)command.ExecuteScalar()!;
    }

    private static DbCommand Command(DbConnection c, string sql, string? p)
    {
        var command = Statements.For(c, sql);
        if (p is not null)
        {
            command.Parameters.AddWithValue("@p", p);
        }
        return command;
    }
}
