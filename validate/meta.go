package validate

import (
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// nameRule is how the API server validates metadata.name per kind: DNS-1123
// subdomain (at most 253 characters, lower-case alphanumerics, '-' and
// '.') for custom resources and most built-in kinds; a DNS-1123 label (63
// characters, no '.') for Namespaces; a DNS-1035 label (a label that starts
// with a letter) for Services. None of them admits '/', "..", upper case
// or anything else that could walk out of a directory when egctl turns a
// name into a file name.
func nameRule(group, kind string) apivalidation.ValidateNameFunc {
	if group == "" {
		switch kind {
		case "Namespace":
			return apivalidation.ValidateNamespaceName
		case "Service":
			return apivalidation.NameIsDNS1035Label
		}
	}
	return apivalidation.NameIsDNSSubdomain
}

// metaErrors applies the API server's ObjectMeta validation on create:
// name, namespace (a DNS label), labels (qualified names and label
// values), annotations (qualified keys, 256 KiB in total), owner
// references, finalizers.
func metaErrors(o Object) []FieldError {
	m, ok := o.Typed.(metav1.Object)
	if !ok {
		return nil
	}
	if plainMeta(m, o.Group, o.Kind, !o.ClusterScoped) {
		return nil
	}
	errs := apivalidation.ValidateObjectMetaAccessor(m, !o.ClusterScoped, nameRule(o.Group, o.Kind), field.NewPath("metadata"))
	return fieldErrors(errs)
}

// fieldErrors converts apimachinery's errors. Their bodies quote the bad
// value; for metadata (names, label keys and values, annotation keys) that
// is what the user needs to see, and never secret.
func fieldErrors(errs field.ErrorList) []FieldError {
	if len(errs) == 0 {
		return nil
	}
	out := make([]FieldError, 0, len(errs))
	for _, e := range errs {
		out = append(out, FieldError{Path: relPath(e.Field), Message: e.ErrorBody()})
	}
	return out
}

// plainMeta reports metadata that ValidateObjectMetaAccessor certainly
// accepts: a name and namespace its rules accept, matched by hand (its
// regular expressions were most of its cost), and nothing else it checks.
// Anything more goes through it.
func plainMeta(m metav1.Object, group, kind string, namespaced bool) bool {
	if m.GetGenerateName() != "" || m.GetGeneration() < 0 ||
		len(m.GetLabels()) > 0 || len(m.GetAnnotations()) > 0 || len(m.GetOwnerReferences()) > 0 ||
		len(m.GetFinalizers()) > 0 || len(m.GetManagedFields()) > 0 {
		return false
	}
	if ns := m.GetNamespace(); namespaced {
		if len(ns) > 63 || !isLabel(ns) {
			return false
		}
	} else if ns != "" {
		return false
	}
	name := m.GetName()
	if group == "" {
		switch kind {
		case "Namespace":
			return len(name) <= 63 && isLabel(name)
		case "Service":
			return len(name) <= 63 && isLabel(name) && isLower(name[0])
		}
	}
	return len(name) <= 253 && isSubdomain(name)
}
