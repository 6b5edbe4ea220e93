using System.Data.Common;
using System.Globalization;
using System.Text.Json.Nodes;
using Agora.Hosting;
using Agora.Storage;
using Microsoft.Extensions.Options;

namespace Agora.Market;

/// One day of an agreement's metered use, and how its counted calls were answered: how many were timed, their
/// total, 95th percentile (the upper bound of its power-of-two bucket) and longest time in ms, and how many were
/// answered with a 5xx.
internal sealed record UsageDay(string Agreement, string Day, long Calls, long Entities, long Bytes, long Notifications, long NotificationsDropped,
    long Timed = 0, long TimeMs = 0, long MaxMs = 0, long ServerErrors = 0, long P95Ms = 0);

/// The marketplace in its own SQLite database (market.sqlite in the data folder, beside security.sqlite): data
/// sources, offerings, agreements and their daily usage. Each record is a JSON document with the columns that
/// queries and state changes need beside it; a state change is one conditional UPDATE, so two admins acting on
/// one agreement at once cannot both win. All of the SQL of the market lives here.
internal sealed partial class MarketStore
{
    private const string Schema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS datasources (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            doc TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS offerings (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            datasource TEXT NOT NULL REFERENCES datasources(id),
            state TEXT NOT NULL,
            doc TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS offerings_state ON offerings(state);
        CREATE TABLE IF NOT EXISTS agreements (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            offering TEXT NOT NULL REFERENCES offerings(id),
            state TEXT NOT NULL,
            requested_by TEXT,
            doc TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS agreements_tenant ON agreements(tenant, id);
        CREATE TABLE IF NOT EXISTS usage (
            agreement TEXT NOT NULL,
            day TEXT NOT NULL,
            calls INTEGER NOT NULL DEFAULT 0,
            entities INTEGER NOT NULL DEFAULT 0,
            bytes INTEGER NOT NULL DEFAULT 0,
            notifications INTEGER NOT NULL DEFAULT 0,
            notifications_dropped INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (agreement, day)
        ) WITHOUT ROWID;
        -- Consumer organisations the city registered: a name, unique in its tenant, that agreements name.
        CREATE TABLE IF NOT EXISTS consumers (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            name TEXT NOT NULL,
            doc TEXT NOT NULL,
            UNIQUE (tenant, name)
        );
        -- How long an agreement's calls took, per day, in power-of-two buckets of ms (bucket b holds up to 2^b ms),
        -- from which the usage report reads a 95th percentile.
        CREATE TABLE IF NOT EXISTS usage_latency (
            agreement TEXT NOT NULL,
            day TEXT NOT NULL,
            bucket INTEGER NOT NULL,
            calls INTEGER NOT NULL,
            PRIMARY KEY (agreement, day, bucket)
        ) WITHOUT ROWID;
        -- The subscriptions made with an agreement's key, whose notifications the agreement governs.
        CREATE TABLE IF NOT EXISTS subscriptions (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            agreement TEXT NOT NULL,
            PRIMARY KEY (tenant, id)
        ) WITHOUT ROWID;
        -- The subscriptions made with a consumer organisation's credential, whose notifications are kept within
        -- the union of that consumer's active agreements.
        CREATE TABLE IF NOT EXISTS consumer_subscriptions (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            consumer TEXT NOT NULL,
            PRIMARY KEY (tenant, id)
        ) WITHOUT ROWID;
        -- Whether a tenant's admin opened or closed self-service sign-up (no row: Agora:Market:OpenSignup).
        CREATE TABLE IF NOT EXISTS signup_settings (
            tenant TEXT PRIMARY KEY,
            is_open INTEGER NOT NULL
        );
        -- The consumer accounts organisations signed up for themselves, by the address they came from, so that
        -- one address makes only so many a day.
        CREATE TABLE IF NOT EXISTS signups (
            consumer TEXT PRIMARY KEY,
            address TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS signups_address ON signups(address, at);
        -- When an address was last refused a sign-up by the limit, so that its refusals are audited once a window.
        CREATE TABLE IF NOT EXISTS signup_throttles (
            address TEXT PRIMARY KEY,
            at TEXT NOT NULL
        );
        """;

    private readonly OwnerOnlyDatabase _database;
    private readonly ILogger<MarketStore> _logger;

    // Agreements name consumers and their credentials: for the owner only, as security.sqlite is.
    public MarketStore(IOptions<AgoraOptions> options, TenantStores stores, ILogger<MarketStore> logger)
    {
        _logger = logger;
        _database = OwnerOnlyDatabase.Of(options.Value, stores.Catalog, "market.sqlite", Schema);
        // Added with consumer organisations: the consumer an agreement is for, so that its active agreements are
        // found by one indexed query. Older files gain the column once, filled from the documents.
        _database.Migrate("market.sqlite", connection =>
        {
            if (_database.AddColumn(connection, "agreements", "consumer", "TEXT"))
            {
                OwnerOnlyDatabase.Execute(connection, _database.IsPostgres
                    ? "UPDATE agreements SET consumer = CAST(doc AS jsonb) ->> 'consumer'"
                    : "UPDATE agreements SET consumer = json_extract(doc, '$.consumer')");
            }
            OwnerOnlyDatabase.Execute(connection, "CREATE INDEX IF NOT EXISTS agreements_consumer ON agreements(tenant, consumer, state)");
            // Added with checked consumer names: the form two names are compared in, unique in the tenant, so that
            // "Acme", "ACME" and "Acme  " are one organisation. Older rows gain it from their names.
            if (_database.AddColumn(connection, "consumers", "name_key", "TEXT"))
            {
                FillNameKeys(connection);
            }
            OwnerOnlyDatabase.Execute(connection, "CREATE UNIQUE INDEX IF NOT EXISTS consumers_name_key ON consumers(tenant, name_key)");
            // Added with measured SLAs: the response times and server errors of each day's calls.
            foreach (var column in new[] { "timed", "time_ms", "max_ms", "server_errors" })
            {
                _database.AddColumn(connection, "usage", column, "INTEGER NOT NULL DEFAULT 0");
            }
        });
        StartFlushing();
    }

    /// Registers a consumer organisation; false when its tenant has one of that name (ConsumerNames.Key) already.
    public bool InsertConsumer(string tenant, JsonObject doc) =>
        Run("INSERT INTO consumers (id, tenant, name, name_key, doc) VALUES (@id, @tenant, @name, @key, @doc) ON CONFLICT DO NOTHING",
            ("@id", (string)doc["id"]!), ("@tenant", tenant), ("@name", (string)doc["name"]!), ("@key", ConsumerNames.Key((string)doc["name"]!)),
            ("@doc", doc.ToJsonString())) == 1;

    public JsonObject? Consumer(string tenant, string id) =>
        Docs("SELECT doc FROM consumers WHERE id = @id AND tenant = @tenant", ("@id", id), ("@tenant", tenant)).FirstOrDefault();

    public List<JsonObject> Consumers(string tenant, string? name) =>
        Docs("SELECT doc FROM consumers WHERE tenant = @tenant AND (CAST(@name AS TEXT) IS NULL OR name = @name) ORDER BY rowid", ("@tenant", tenant), ("@name", name));

    public void DeleteConsumer(string tenant, string id) =>
        Run("DELETE FROM consumers WHERE id = @id AND tenant = @tenant", ("@id", id), ("@tenant", tenant));

    /// A consumer's agreements in a tenant that are active as stored (one whose end has passed is found here and
    /// then read as expired).
    public List<JsonObject> ActiveAgreements(string tenant, string consumer) =>
        Docs("SELECT doc FROM agreements WHERE tenant = @tenant AND consumer = @consumer AND state = 'active' ORDER BY rowid",
            ("@tenant", tenant), ("@consumer", consumer));

    public void InsertDataSource(string tenant, JsonObject doc) =>
        Run("INSERT INTO datasources (id, tenant, doc) VALUES (@id, @tenant, @doc)",
            ("@id", (string)doc["id"]!), ("@tenant", tenant), ("@doc", doc.ToJsonString()));

    public void UpdateDataSource(string tenant, JsonObject doc) =>
        Run("UPDATE datasources SET doc = @doc WHERE id = @id AND tenant = @tenant",
            ("@id", (string)doc["id"]!), ("@tenant", tenant), ("@doc", doc.ToJsonString()));

    public JsonObject? DataSource(string tenant, string id) =>
        Docs("SELECT doc FROM datasources WHERE id = @id AND tenant = @tenant", ("@id", id), ("@tenant", tenant)).FirstOrDefault();

    public List<JsonObject> DataSources(string tenant) =>
        Docs("SELECT doc FROM datasources WHERE tenant = @tenant ORDER BY rowid", ("@tenant", tenant));

    /// Deletes a data source no offering uses; false when one does (or there is no such source).
    public bool DeleteDataSource(string tenant, string id) =>
        Run("DELETE FROM datasources WHERE id = @id AND tenant = @tenant AND NOT EXISTS (SELECT 1 FROM offerings WHERE datasource = @id)",
            ("@id", id), ("@tenant", tenant)) == 1;

    public bool DataSourceInUse(string id) =>
        Docs("SELECT doc FROM offerings WHERE datasource = @id LIMIT 1", ("@id", id)).Count > 0;

    public void SaveOffering(string tenant, JsonObject doc, bool insert) =>
        Run(insert
                ? "INSERT INTO offerings (id, tenant, datasource, state, doc) VALUES (@id, @tenant, @source, @state, @doc)"
                : "UPDATE offerings SET datasource = @source, state = @state, doc = @doc WHERE id = @id AND tenant = @tenant",
            ("@id", (string)doc["id"]!), ("@tenant", tenant), ("@source", (string)doc["dataSource"]!), ("@state", (string)doc["state"]!),
            ("@doc", doc.ToJsonString()));

    public JsonObject? Offering(string tenant, string id) =>
        Docs("SELECT doc FROM offerings WHERE id = @id AND tenant = @tenant", ("@id", id), ("@tenant", tenant)).FirstOrDefault();

    public List<JsonObject> Offerings(string tenant, string? state) =>
        Docs("SELECT doc FROM offerings WHERE tenant = @tenant AND (CAST(@state AS TEXT) IS NULL OR state = @state) ORDER BY rowid",
            ("@tenant", tenant), ("@state", state));

    /// Every tenant's published offerings, for the public catalogue.
    public List<JsonObject> Published() =>
        Docs("SELECT doc FROM offerings WHERE state = 'published' ORDER BY rowid");

    /// Moves an agreement from one of the given states to `state`; false when it is in none of them. Only the state
    /// and modifiedAt change, in the column and the record together, so a credential collected meanwhile stays
    /// and the record never says another state than the column.
    public bool ChangeAgreement(string tenant, string id, string state, string modifiedAt, IReadOnlyList<string> from)
    {
        var states = string.Join(",", from.Select((_, i) => "@from" + i));
        var parameters = new List<(string, object?)> { ("@id", id), ("@tenant", tenant), ("@state", state), ("@at", modifiedAt) };
        parameters.AddRange(from.Select((s, i) => ("@from" + i, (object?)s)));
        var doc = _database.IsPostgres
            ? "CAST(CAST(doc AS jsonb) || jsonb_build_object('state', CAST(@state AS TEXT), 'modifiedAt', CAST(@at AS TEXT)) AS TEXT)"
            : "json_set(doc, '$.state', @state, '$.modifiedAt', @at)";
        return Run($"UPDATE agreements SET state = @state, doc = {doc} WHERE id = @id AND tenant = @tenant AND state IN ({states})", [.. parameters]) == 1;
    }

    public JsonObject? Agreement(string id) =>
        Docs("SELECT doc FROM agreements WHERE id = @id", ("@id", id)).FirstOrDefault();

    /// A tenant's agreements; with a requester, only those it asked for, whose key it holds, or of its consumer.
    public List<JsonObject> Agreements(string tenant, string? requester, string? heldAgreement, string? consumer) =>
        Docs("""
            SELECT doc FROM agreements WHERE tenant = @tenant
              AND (CAST(@requester AS TEXT) IS NULL OR requested_by = @requester OR id = @held OR consumer = @consumer) ORDER BY rowid
            """, ("@tenant", tenant), ("@requester", requester), ("@held", heldAgreement), ("@consumer", consumer));

    /// Records that an agreement's key makes this subscription; false when the id is another's already.
    public bool LinkSubscription(string tenant, string subscription, string agreement) =>
        Link("subscriptions", "agreement", "consumer_subscriptions", tenant, subscription, agreement);

    public void UnlinkSubscription(string tenant, string subscription) => Unlink("subscriptions", tenant, subscription);

    /// Records that a consumer organisation's credential makes this subscription; false when the id is taken.
    public bool LinkConsumerSubscription(string tenant, string subscription, string consumer) =>
        Link("consumer_subscriptions", "consumer", "subscriptions", tenant, subscription, consumer);

    public void UnlinkConsumerSubscription(string tenant, string subscription) => Unlink("consumer_subscriptions", tenant, subscription);

    // A subscription is an agreement's or a consumer's, never both: the other table must not hold the id either.
    private bool Link(string table, string column, string other, string tenant, string subscription, string owner) =>
        Run($"""
            INSERT INTO {table} (tenant, id, {column})
            SELECT @tenant, @id, @owner WHERE NOT EXISTS (SELECT 1 FROM {other} WHERE tenant = @tenant AND id = @id)
            ON CONFLICT DO NOTHING
            """, ("@tenant", tenant), ("@id", subscription), ("@owner", owner)) == 1;

    private void Unlink(string table, string tenant, string subscription) =>
        Run($"DELETE FROM {table} WHERE tenant = @tenant AND id = @id", ("@tenant", tenant), ("@id", subscription));

    /// The subscriptions made with the keys of these agreements or with this consumer organisation's credential.
    public HashSet<string> SubscriptionsOf(string tenant, IReadOnlyList<string> agreements, string? consumer)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        using var connection = Open();
        var names = agreements.Select((_, i) => "@a" + i).DefaultIfEmpty("NULL");
        using var command = Command(connection, $"""
            SELECT id FROM subscriptions WHERE tenant = @tenant AND agreement IN ({string.Join(',', names)})
            UNION SELECT id FROM consumer_subscriptions WHERE tenant = @tenant AND consumer = @consumer
            """, [("@tenant", tenant), ("@consumer", consumer), .. agreements.Select((a, i) => ("@a" + i, (object?)a))]);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }
        return ids;
    }

    /// The consumer organisation whose credential made this subscription, or null when none did.
    public string? ConsumerOfSubscription(string tenant, string subscription) =>
        Scalar("SELECT consumer FROM consumer_subscriptions WHERE tenant = @tenant AND id = @id", ("@tenant", tenant), ("@id", subscription));

    /// The agreement whose key made this subscription, or null when none did.
    public string? AgreementOfSubscription(string tenant, string subscription) =>
        Scalar("SELECT agreement FROM subscriptions WHERE tenant = @tenant AND id = @id", ("@tenant", tenant), ("@id", subscription));

    private string? Scalar(string sql, params (string Name, object? Value)[] parameters)
    {
        using var connection = Open();
        using var command = Command(connection, sql, parameters);
        return command.ExecuteScalar() as string;
    }

    public static string Day(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private List<JsonObject> Docs(string sql, params (string Name, object? Value)[] parameters)
    {
        using var connection = Open();
        using var command = Command(connection, sql, parameters);
        using var reader = command.ExecuteReader();
        var docs = new List<JsonObject>();
        while (reader.Read())
        {
            docs.Add(JsonNode.Parse(reader.GetString(0))!.AsObject());
        }
        return docs;
    }

    private int Run(string sql, params (string Name, object? Value)[] parameters)
    {
        using var connection = Open();
        using var command = Command(connection, sql, parameters);
        return command.ExecuteNonQuery();
    }

    private static DbCommand Command(DbConnection connection, string sql, (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        return command;
    }

    private DbConnection Open() => _database.Open();
}
