using System.Text;
using Npgsql;

namespace Agora.Storage;

/// Writes an entity's index rows on PostgreSQL in one round trip: one statement per table, each inserting
/// the rows of array parameters (unnest), all sent as one command. An update deletes first the rows of the
/// attributes it changed (by path range, through the (rid, path) index).
internal static class PostgresIndexes
{
    public static void Write(NpgsqlConnection connection, long rid, IndexChange change)
    {
        var sql = new StringBuilder();
        if (change.Types is not null)
        {
            if (change.Replace)
            {
                sql.Append("DELETE FROM entity_types WHERE rid = @rid;");
            }
            sql.Append("INSERT INTO entity_types (type, rid) SELECT t, @rid FROM unnest(@types) AS t ON CONFLICT DO NOTHING;");
        }
        if (change.Cleared.Count > 0)
        {
            sql.Append("""
                DELETE FROM attr_values v USING unnest(@cleared) AS a(attr) WHERE v.rid = @rid AND v.path >= a.attr AND v.path < a.attr || ' ';
                DELETE FROM entity_attrs WHERE rid = @rid AND attr = ANY(@cleared);
                """);
        }
        if (change.Values.Count > 0)
        {
            sql.Append("INSERT INTO attr_values (path, num, str, rid) SELECT p, n, s, @rid FROM unnest(@paths, @nums, @strs) AS v(p, n, s);");
        }
        if (change.Attributes.Count > 0)
        {
            sql.Append("INSERT INTO entity_attrs (attr, attr_type, rid) SELECT a, t, @rid FROM unnest(@attrs, @attrtypes) AS x(a, t) ON CONFLICT DO NOTHING;");
        }
        if (change.Geometries is { } geometries)
        {
            if (change.Replace)
            {
                sql.Append("DELETE FROM geo WHERE rid = @rid;");
            }
            if (geometries.Count > 0)
            {
                sql.Append("""
                    INSERT INTO geo (rid, attr, bounds) SELECT @rid, a, ST_MakeEnvelope(x0, y0, x1, y1)
                    FROM unnest(@geoattrs, @minx, @miny, @maxx, @maxy) AS g(a, x0, y0, x1, y1);
                    """);
            }
        }
        if (change.Scopes is not null)
        {
            if (change.Replace)
            {
                sql.Append("DELETE FROM scopes WHERE rid = @rid;");
            }
            sql.Append("INSERT INTO scopes (scope, rid) SELECT s, @rid FROM unnest(@scopes) AS s ON CONFLICT DO NOTHING;");
        }
        if (sql.Length == 0)
        {
            return;
        }

        using var command = new NpgsqlCommand(sql.ToString(), connection);
        var p = command.Parameters;
        p.AddWithValue("@rid", rid);
        p.AddWithValue("@types", change.Types ?? []);
        p.AddWithValue("@cleared", change.Cleared.Select(Db.Text).ToArray());
        p.AddWithValue("@paths", change.Values.Select(v => Db.Text(v.Path)).ToArray());
        p.AddWithValue("@nums", change.Values.Select(v => v.Num).ToArray());
        p.AddWithValue("@strs", change.Values.Select(v => v.Str is { } text ? Db.Text(text) : null).ToArray());
        p.AddWithValue("@attrs", change.Attributes.Select(a => a.Attr).ToArray());
        p.AddWithValue("@attrtypes", change.Attributes.Select(a => a.Type).ToArray());
        var g = change.Geometries ?? [];
        p.AddWithValue("@geoattrs", g.Select(x => x.Attribute).ToArray());
        p.AddWithValue("@minx", g.Select(x => x.MinX).ToArray());
        p.AddWithValue("@miny", g.Select(x => x.MinY).ToArray());
        p.AddWithValue("@maxx", g.Select(x => x.MaxX).ToArray());
        p.AddWithValue("@maxy", g.Select(x => x.MaxY).ToArray());
        p.AddWithValue("@scopes", change.Scopes ?? []);
        command.ExecuteNonQuery();
    }

    /// Deletes every index row of an entity (not its types, which go with the entity's row).
    public static void Clear(NpgsqlConnection connection, long rid)
    {
        using var command = new NpgsqlCommand("""
            DELETE FROM attr_values WHERE rid = @rid;
            DELETE FROM geo WHERE rid = @rid;
            DELETE FROM scopes WHERE rid = @rid;
            DELETE FROM entity_attrs WHERE rid = @rid;
            """, connection);
        command.Parameters.AddWithValue("@rid", rid);
        command.ExecuteNonQuery();
    }
}
