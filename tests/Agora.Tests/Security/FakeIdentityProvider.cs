using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Agora.Tests.Security;

/// A city's identity provider (a Keycloak realm, say), in process: it serves OIDC discovery and its JWKS to
/// Agora's JWT handler through the handler's back channel, and mints tokens as the real one would.
internal sealed class FakeIdentityProvider : HttpMessageHandler
{
    public const string Issuer = "https://idp.city.test/realms/city";
    public const string Audience = "agora-api";

    private readonly RsaSecurityKey _key = new(RSA.Create(2048)) { KeyId = "city-key-1" };

    public static (string, string)[] Settings =>
    [
        ("Agora:Security:Mode", "Secured"),
        ("Agora:Security:Authority", Issuer),
        ("Agora:Security:Audience", Audience),
    ];

    /// An Agora trusting this provider, with the settings given besides.
    public WebApplicationFactory<Program> Trust(AgoraApplication app) =>
        app.WithWebHostBuilder(b => b.ConfigureTestServices(services =>
            services.Configure<JwtBearerOptions>("External", o => o.BackchannelHttpHandler = this)));

    /// A token as the provider issues it; every part can be spoiled for the tests of bad tokens.
    public string Token(IDictionary<string, object>? claims = null, string issuer = Issuer, string audience = Audience,
        DateTime? expires = null, SecurityKey? key = null)
    {
        var now = DateTime.UtcNow;
        var expiry = expires ?? now.AddMinutes(5);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = expiry.AddMinutes(-10),
            NotBefore = expiry.AddMinutes(-10),
            Expires = expiry,
            Claims = claims ?? new Dictionary<string, object> { ["sub"] = "alice", ["roles"] = new[] { "provider" } },
            SigningCredentials = new SigningCredentials(key ?? _key, SecurityAlgorithms.RsaSha256),
        });
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var path = request.RequestUri!.AbsoluteUri;
        JsonNode? body = path switch
        {
            Issuer + "/.well-known/openid-configuration" => new JsonObject
            {
                ["issuer"] = Issuer,
                ["jwks_uri"] = Issuer + "/protocol/openid-connect/certs",
                ["token_endpoint"] = Issuer + "/protocol/openid-connect/token",
                ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
            },
            Issuer + "/protocol/openid-connect/certs" => new JsonObject { ["keys"] = new JsonArray(Jwk()) },
            _ => null,
        };
        return Task.FromResult(body is null
            ? new HttpResponseMessage(HttpStatusCode.NotFound)
            : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") });
    }

    private JsonObject Jwk()
    {
        var parameters = _key.Rsa.ExportParameters(false);
        return new JsonObject
        {
            ["kty"] = "RSA",
            ["use"] = "sig",
            ["alg"] = "RS256",
            ["kid"] = _key.KeyId,
            ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
            ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
        };
    }
}
