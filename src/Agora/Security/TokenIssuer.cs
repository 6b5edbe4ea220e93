using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Agora.Security;

/// Agora's own OAuth2 token endpoint (client credentials), for cities without an identity provider. OpenIddict
/// does the protocol and the tokens; it runs in degraded mode, so its clients are Agora's own credentials
/// (SecurityStore) rather than an Entity Framework database, and these two handlers are all the glue.
internal static class TokenIssuer
{
    public const string TokenPath = "/oauth2/token";
    private const string ConfigurationPath = "/.well-known/openid-configuration";
    private const string KeysPath = "/.well-known/jwks";

    /// Whether OpenIddict answers this path: only these requests go through it (it inspects every request it
    /// sees, which was a tenth of the CPU of each authenticated read).
    public static bool Serves(PathString path) =>
        path.Equals(TokenPath, StringComparison.OrdinalIgnoreCase) || path.Equals(ConfigurationPath, StringComparison.OrdinalIgnoreCase)
        || path.Equals(KeysPath, StringComparison.OrdinalIgnoreCase);

    public static void AddTokenIssuer(this IServiceCollection services, SecurityOptions options, string issuer, IssuerKeys keys)
    {
        services.AddOpenIddict().AddServer(server =>
        {
            server.SetIssuer(new Uri(issuer));
            server.SetTokenEndpointUris(TokenPath.TrimStart('/'));
            server.SetConfigurationEndpointUris(ConfigurationPath.TrimStart('/'));
            server.SetJsonWebKeySetEndpointUris(KeysPath.TrimStart('/'));
            server.AllowClientCredentialsFlow();
            server.EnableDegradedMode();
            // Plain signed JWTs, so that the standard JWT bearer handler validates them like any other provider's.
            server.DisableAccessTokenEncryption();
            server.SetAccessTokenLifetime(options.Issuer.TokenLifetime);
            server.AddSigningKey(keys.Signing);
            server.AddEncryptionKey(keys.Encryption);
            // Agora speaks plain HTTP; TLS is the reverse proxy's job in front of it (see README).
            server.UseAspNetCore().DisableTransportSecurityRequirement();
            server.AddEventHandler<ValidateTokenRequestContext>(b => b.UseSingletonHandler<AuthenticateClient>());
            server.AddEventHandler<HandleTokenRequestContext>(b => b.UseSingletonHandler<IssueToken>());
        });
    }

    /// Checks client_id and client_secret against Agora's clients: unknown, revoked, expired and wrong secret are
    /// one and the same invalid_client.
    private sealed class AuthenticateClient(Credentials credentials, AuditLog audit, TimeProvider time) : IOpenIddictServerHandler<ValidateTokenRequestContext>
    {
        public async ValueTask HandleAsync(ValidateTokenRequestContext context)
        {
            if (!context.Request.IsClientCredentialsGrantType())
            {
                context.Reject(OpenIddictConstants.Errors.UnsupportedGrantType, "Only the client_credentials grant is supported.");
                return;
            }
            var client = context.ClientId is { } id && context.ClientSecret is { } secret ? credentials.VerifyClient(id, secret) : null;
            if (client is null)
            {
                context.Reject(OpenIddictConstants.Errors.InvalidClient, "The client is unknown, revoked or expired, or its secret is wrong.");
                // The client_id is what the caller typed, not a proven identity (and may be a pasted secret): it is
                // no actor, and only a digest of it is kept, enough to tell repeated attempts apart.
                await audit.WriteAsync(new AuditEntry(time.GetUtcNow(), "", null, "POST " + TokenPath,
                    AuditLog.Unauthenticated, $"token request with invalid client credentials (client_id digest {Digest(context.ClientId)})", null));
                return;
            }
            context.Transaction.Properties[nameof(Credential)] = client;
        }

        private static string Digest(string? value) =>
            value is null ? "none" : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(value)))[..12];
    }

    private sealed class IssueToken(AuditLog audit, TimeProvider time, IOptions<SecurityOptions> options) : IOpenIddictServerHandler<HandleTokenRequestContext>
    {
        public async ValueTask HandleAsync(HandleTokenRequestContext context)
        {
            var client = (Credential)context.Transaction.Properties[nameof(Credential)]!;
            var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
            identity.SetClaim(Claims.Subject, client.Id);
            identity.SetClaim(TokenClaims.Tenant, client.Tenant);
            identity.SetClaim(TokenClaims.Role, Roles.Name(client.Role));
            foreach (var type in client.Types ?? [])
            {
                identity.AddClaim(new Claim(TokenClaims.Types, type));
            }
            identity.SetAudiences(options.Value.Issuer.Audience);
            identity.SetDestinations(static _ => [Destinations.AccessToken]);
            context.SignIn(new ClaimsPrincipal(identity));
            await audit.WriteAsync(new AuditEntry(time.GetUtcNow(), client.Tenant, client.Id, "POST " + TokenPath, AuditLog.Allowed, "access token issued", null));
        }
    }
}

/// The claims of Agora's own access tokens.
internal static class TokenClaims
{
    public const string Tenant = "tenant";
    public const string Role = "roles";
    public const string Types = "entity_types";
}

/// The issuer's keys, made once and kept in the data folder (owner-only), so that tokens outlive a restart.
internal sealed record IssuerKeys(SecurityKey Signing, SecurityKey Encryption)
{
    public static IssuerKeys LoadOrCreate(string dataFolder)
    {
        var folder = Path.Combine(dataFolder, "issuer-keys");
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            // Owner-only from the start, and tightened if an older folder was looser.
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var rsa = RSA.Create();
        rsa.ImportFromPem(ReadOrCreate(Path.Combine(folder, "signing.pem"), () =>
        {
            using var created = RSA.Create(2048);
            return created.ExportPkcs8PrivateKeyPem();
        }));
        var signing = new RsaSecurityKey(rsa);
        signing.KeyId = Base64UrlEncoder.Encode(signing.ComputeJwkThumbprint());
        var encryption = new SymmetricSecurityKey(Convert.FromBase64String(ReadOrCreate(Path.Combine(folder, "encryption.key"),
            () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)))));
        return new IssuerKeys(signing, encryption);
    }

    private static string ReadOrCreate(string path, Func<string> create)
    {
        if (!File.Exists(path))
        {
            var temporary = path + ".tmp";
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                // Created owner-only: the key is never readable by others, not even for a moment.
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using (var writer = new StreamWriter(temporary, System.Text.Encoding.UTF8, options))
            {
                writer.Write(create());
            }
            File.Move(temporary, path, overwrite: false);
        }
        return File.ReadAllText(path);
    }
}
