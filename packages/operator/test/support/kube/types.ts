/** What the stand-in API server knows about one resource type (a built-in, or one version of a CRD). */
export interface ResourceType {
    group: string; // '' for the core group
    version: string;
    kind: string;
    listKind: string;
    plural: string;
    singular: string;
    shortNames: string[];
    namespaced: boolean;
    /** A status subresource: writes to the main resource ignore .status, writes to /status only change .status. */
    statusSubresource: boolean;
    /** Bumps metadata.generation on spec changes (custom resources and most built-ins with a spec). */
    generation: boolean;
    /** The CRD's structural schema (openAPIV3Schema), used to prune and validate; undefined for built-ins. */
    schema: JsonSchema | undefined;
    /** The CRD's additionalPrinterColumns, for Table output. */
    printerColumns: PrinterColumn[];
    /** True for custom resources: the server refuses strategic merge patches for them, as the real one does. */
    custom: boolean;
}

export interface PrinterColumn {
    name: string;
    type: string;
    jsonPath: string;
}

export interface JsonSchema {
    type?: string;
    properties?: Record<string, JsonSchema>;
    additionalProperties?: JsonSchema | boolean;
    items?: JsonSchema;
    required?: string[];
    enum?: unknown[];
    format?: string;
    description?: string;
    'x-kubernetes-preserve-unknown-fields'?: boolean;
    'x-kubernetes-int-or-string'?: boolean;
    [key: string]: unknown;
}

export type KubeObject = {
    apiVersion?: string;
    kind?: string;
    metadata: ObjectMeta;
    [key: string]: unknown;
};

export interface ObjectMeta {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    finalizers?: string[];
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
}

export const groupVersion = (t: { group: string; version: string }): string => (t.group ? `${t.group}/${t.version}` : t.version);
