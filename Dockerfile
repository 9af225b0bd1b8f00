# A static egctl on distroless: docker build -t egctl . && docker run --rm -v "$PWD:/src" -w /src egctl x validate -f .
FROM golang:1.26 AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -trimpath -tags kustomize_disable_go_plugin_support -ldflags '-s -w' -o /out/egctl ./cmd/egctl

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/egctl /egctl
ENTRYPOINT ["/egctl"]
