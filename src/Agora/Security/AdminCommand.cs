using Agora.Storage;
using Agora.Errors;
using Agora.Hosting;

namespace Agora.Security;

/// `agora admin create-key`: makes a tenant's first admin credential (or any other) straight in the data folder,
/// without a running server, since in Secured mode no request can be made before one exists. The key goes to
/// standard output, alone on its line, and is never shown again; what it is goes to standard error.
internal static class AdminCommand
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args is not ["create-key", .. var rest])
        {
            error.WriteLine("agora admin: the only command is create-key.");
            error.WriteLine(AgoraCommandLine.Usage);
            return 2;
        }
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(rest)
            .Build();
        var agora = configuration.GetSection(AgoraOptions.Section).Get<AgoraOptions>() ?? new AgoraOptions();
        var tenant = configuration["tenant"] ?? "";
        var time = TimeProvider.System;
        try
        {
            if (tenant.Length > 128 || tenant.Any(char.IsControl))
            {
                throw NgsiLdException.BadRequest("Invalid tenant", "--tenant must be at most 128 characters without control characters.");
            }
            var types = configuration["types"]?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var request = CredentialRequests.Parse(configuration["role"], types, configuration["name"] ?? "created by agora admin",
                configuration["expires"], null, null, time);
            // On PostgreSQL the key goes to the database every node shares, so any node accepts it.
            var catalog = agora.Storage.IsPostgres
                ? new PostgresCatalog(agora.Storage.ConnectionString ?? throw NgsiLdException.BadRequest("No database", "Agora:Storage:ConnectionString is required with the Postgres provider."), agora.Storage.Schema)
                : null;
            var store = new SecurityStore(agora, catalog);
            var (credential, key) = new Credentials(store, time).CreateApiKey(tenant, request);
            store.Append([new AuditEntry(time.GetUtcNow(), tenant, "cli", "agora admin create-key", AuditLog.Changed,
                $"created API key {credential.Id} with role {Roles.Name(credential.Role)}", null)]);
            error.WriteLine($"Created API key {credential.Id} for {(tenant == "" ? "the default tenant" : $"tenant '{tenant}'")}, role {Roles.Name(credential.Role)}, " +
                $"valid until {credential.ExpiresAt:yyyy-MM-dd HH:mm} UTC. It is printed once, below; only its hash is kept.");
            output.WriteLine(key);
            return 0;
        }
        catch (NgsiLdException e)
        {
            error.WriteLine($"agora admin create-key: {e.Detail ?? e.Title}");
            return 2;
        }
    }
}
