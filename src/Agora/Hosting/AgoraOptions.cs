namespace Agora.Hosting;

/// Every setting of the server, bound from the "Agora" configuration section, environment variables
/// (AGORA__PORT, AGORA__DATA, ...) and the command line (--port, --data). Defaults live here.
internal sealed class AgoraOptions
{
    public const string Section = "Agora";

    /// TCP port Kestrel listens on.
    public int Port { get; set; } = 1026;

    /// Folder of the embedded store (one SQLite database per tenant, plus the @context cache).
    public string Data { get; set; } = "./data";

    /// Address to listen on. Without security configured only loopback addresses are accepted.
    public string Host { get; set; } = "127.0.0.1";

    /// Largest request body accepted, in bytes; larger bodies are answered with 413.
    public long MaxBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// How long a remote @context may take to arrive before the request fails with LdContextNotAvailable.
    public TimeSpan ContextFetchTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// How long a fetched remote @context is kept before it is fetched again.
    public TimeSpan ContextCacheLifetime { get; set; } = TimeSpan.FromHours(24);

    /// SQLite synchronous mode: "Normal" survives a crash of the process (kill -9); "Full" also survives a
    /// power loss, at the price of an fsync per group commit.
    public string Synchronous { get; set; } = "Normal";

    /// Most entities one batch operation may carry; larger batches are BadRequestData.
    public int MaxBatchSize { get; set; } = 1000;

    /// Where tenants' data lives (Agora:Storage:Provider, ...).
    public StorageOptions Storage { get; set; } = new();
}

/// The store: the embedded SQLite (one file per tenant under Data) or a PostgreSQL database shared by any
/// number of Agora nodes.
internal sealed class StorageOptions
{
    public const string Sqlite = "Sqlite";
    public const string Postgres = "Postgres";

    /// "Sqlite" (the default) or "Postgres".
    public string Provider { get; set; } = Sqlite;

    /// The Npgsql connection string of the PostgreSQL database, for the Postgres provider
    /// ("Host=db;Database=agora;Username=agora;Password=...").
    public string? ConnectionString { get; set; }

    /// Agora's own schema in that database; each tenant gets a schema named after it (agora_default, agora_t1,
    /// ...). Several Agora installations can share one database under different names.
    public string Schema { get; set; } = "agora";

    public bool IsPostgres => string.Equals(Provider, Postgres, StringComparison.OrdinalIgnoreCase);
}
