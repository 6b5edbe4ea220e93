using System.Text.Json.Nodes;
using Agora.JsonLd;

namespace Agora.Tests.JsonLd;

/// Builds active contexts from inline JSON without a resolver: no store, no network.
internal static class TestContexts
{
    public static JsonLdContext Build(string json)
    {
        var node = JsonNode.Parse(json);
        var processor = new ContextProcessor((url, _) => throw new InvalidOperationException($"Unexpected remote context {url}."));
        var task = processor.ProcessAsync(node, CancellationToken.None);
        // Inline contexts process synchronously; GetAwaiter().GetResult() surfaces the NgsiLdException as is.
        task.GetAwaiter().GetResult();
        return new JsonLdContext(processor.Terms, processor.Vocab, processor.Core, node?.DeepClone() ?? JsonValue.Create(JsonLdContext.CoreUrl), null);
    }
}
