import type { FastifyInstance } from 'fastify'
import { adminRoutes } from '../admin/admin-routes.js'
import {
  CiClass,
  CiClassListQuery,
  CreateCiClassBody,
  CreateDiscoverySourceBody,
  CreateRelationshipTypeBody,
  DiscoverySource,
  NamedListQuery,
  RelationshipType,
  UpdateCiClassBody,
  UpdateDiscoverySourceBody,
  UpdateRelationshipTypeBody
} from './catalogue.schemas.js'

const tags = ['cmdb']

/** REST doors to the CMDB catalogues: classes, relationship types, discovery sources (staff read, admins write). */
export default async function catalogueRoutes(app: FastifyInstance) {
  adminRoutes(app, {
    path: '/ci-classes',
    tags,
    view: CiClass,
    listQuery: CiClassListQuery,
    create: CreateCiClassBody,
    patch: UpdateCiClassBody,
    summary: {
      list: 'CI classes by name, with the attributes each defines and inherits',
      create: 'Define a CI class (admin)',
      get: 'Get a CI class',
      update: 'Update a CI class: label, parent, attribute definitions (admin)',
      remove: 'Delete a CI class no CI and no class uses (admin)'
    },
    service: app => app.services.cmdbCatalogue.classes
  })
  adminRoutes(app, {
    path: '/ci-relationship-types',
    tags,
    view: RelationshipType,
    listQuery: NamedListQuery,
    create: CreateRelationshipTypeBody,
    patch: UpdateRelationshipTypeBody,
    summary: {
      list: 'Relationship types by name, with both readings',
      create: 'Add a relationship type (admin)',
      get: 'Get a relationship type',
      update: 'Rename the readings of a relationship type (admin)',
      remove: 'Delete a relationship type no relationship uses (admin)'
    },
    service: app => app.services.cmdbCatalogue.relationshipTypes
  })
  adminRoutes(app, {
    path: '/discovery-sources',
    tags,
    view: DiscoverySource,
    listQuery: NamedListQuery,
    create: CreateDiscoverySourceBody,
    patch: UpdateDiscoverySourceBody,
    summary: {
      list: 'Discovery sources by name',
      create: 'Register a discovery source: precedence, manual-edit override, missing threshold (admin)',
      get: 'Get a discovery source',
      update: 'Update a discovery source (admin)',
      remove: 'Delete a discovery source (admin)'
    },
    service: app => app.services.cmdbCatalogue.sources
  })
}
